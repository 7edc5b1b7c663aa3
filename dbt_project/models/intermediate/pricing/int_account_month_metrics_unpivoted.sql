-- Grain: one row per rated account-month per metric (account_id, month, metric).
-- The quantities every price model is rated on, computed once from the usage rollup, the seat
-- ledger and the expected invoice lines, never by rescanning events. An account-month is rated when
-- the account had billable seats at its end, used the product in it, or was billed in it (real or
-- expected invoice), so churned months cost nothing under any model.
-- `events`: the usage events behind a usage metric (percentage fixed fees); 0 for the others.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

seats as (select * from {{ ref('int_seat_events_netted_to_account_month') }}),

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

actors_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_actor_month') }}),

credit_rates as (select * from {{ ref('credit_rates') }}),

expected_lines as (select * from {{ ref('int_invoice_lines_under_seat_rules') }}),

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

fx_rates as (select * from {{ ref('int_fx_rates_as_of_day') }}),

data_as_of as (select * from {{ ref('int_export_timestamps_aggregated') }}),

usage_by_account_month as (
    select
        usage_rolled_up.account_id,
        usage_rolled_up.month,
        {{ account_month_usage_measures('usage_rolled_up') }},
        -- a feature x tier missing from the credit table costs no credits; a test names it
        sum(usage_rolled_up.usage_events * coalesce(credit_rates.credits_per_request, 0))
            as credits
    from usage_rolled_up
    left join credit_rates
        on usage_rolled_up.feature = credit_rates.feature
            and usage_rolled_up.model = credit_rates.model
    group by usage_rolled_up.account_id, usage_rolled_up.month
),

active_users_by_account_month as (
    {{ account_month_active_users('actors_rolled_up') }}
),

-- The current per-seat model's own quantities: the lines the billing rules give for each period
-- starting in the month (seats at the period start x the plan's seat price, the platform fee, and
-- the prorations of the previous period's seat changes, which that period's invoice carries), in
-- USD at the rate of the period start, which is the invoice's issue date. Proration charges (adds)
-- and credits (removals) are two metrics, each a positive amount, so that `standard` rating,
-- which never charges below zero, can price the credits at -1 per USD.
expected_recurring_lines as (
    select
        expected_lines.account_id,
        {{ month_of('expected_lines.period_start') }} as month,
        expected_lines.line_kind,
        expected_lines.amount,
        expected_lines.currency,
        cast(expected_lines.period_start as date) as period_start_date
    from expected_lines
    -- a period that starts after the data's as-of time has not been invoiced yet
    inner join data_as_of
        on expected_lines.period_start <= data_as_of.data_as_of
    where expected_lines.line_kind in ('seats', 'platform_fee', 'proration')
),

expected_recurring_lines_in_usd as (
    select
        expected_recurring_lines.account_id,
        expected_recurring_lines.month,
        expected_recurring_lines.line_kind,
        expected_recurring_lines.amount * case
            when expected_recurring_lines.currency = 'USD' then 1
            else fx_rates.usd_per_unit
        end as amount_usd
    from expected_recurring_lines
    left join fx_rates
        on {{ fx_rate_in_force(
            'fx_rates',
            'expected_recurring_lines.currency',
            'expected_recurring_lines.period_start_date'
        ) }}
),

expected_by_account_month as (
    select
        account_id,
        month,
        sum(case when line_kind = 'seats' then amount_usd end) as plan_seat_charges_usd,
        sum(case when line_kind = 'platform_fee' then amount_usd end) as plan_platform_fees_usd,
        sum(case when line_kind = 'proration' and amount_usd > 0 then amount_usd end)
            as plan_proration_charges_usd,
        sum(case when line_kind = 'proration' and amount_usd < 0 then -amount_usd end)
            as plan_proration_credits_usd
    from expected_recurring_lines_in_usd
    group by account_id, month
),

billed_account_months as (
    select distinct
        account_id,
        issued_month as month
    from invoices
    where is_billed
),

rated_account_months as (
    select
        account_months.account_id,
        account_months.month,
        coalesce(seats.billable_seats, 0) as seats,
        coalesce(active_users_by_account_month.active_users, 0) as active_users,
        coalesce(usage_by_account_month.usage_events, 0) as requests,
        coalesce(usage_by_account_month.tasks, 0) as tasks,
        coalesce(usage_by_account_month.agent_tasks, 0) as agent_tasks,
        coalesce(usage_by_account_month.resolved_tasks, 0) as resolutions,
        coalesce(usage_by_account_month.input_tokens, 0) as input_tokens,
        coalesce(usage_by_account_month.output_tokens, 0) as output_tokens,
        coalesce(usage_by_account_month.credits, 0) as credits,
        coalesce(expected_by_account_month.plan_seat_charges_usd, 0) as plan_seat_charges_usd,
        coalesce(expected_by_account_month.plan_platform_fees_usd, 0) as plan_platform_fees_usd,
        coalesce(expected_by_account_month.plan_proration_charges_usd, 0)
            as plan_proration_charges_usd,
        coalesce(expected_by_account_month.plan_proration_credits_usd, 0)
            as plan_proration_credits_usd
    from account_months
    left join seats
        on account_months.account_id = seats.account_id
            and account_months.month = seats.month
    left join usage_by_account_month
        on account_months.account_id = usage_by_account_month.account_id
            and account_months.month = usage_by_account_month.month
    left join active_users_by_account_month
        on account_months.account_id = active_users_by_account_month.account_id
            and account_months.month = active_users_by_account_month.month
    left join expected_by_account_month
        on account_months.account_id = expected_by_account_month.account_id
            and account_months.month = expected_by_account_month.month
    left join billed_account_months
        on account_months.account_id = billed_account_months.account_id
            and account_months.month = billed_account_months.month
    where coalesce(seats.billable_seats, 0) > 0
        or coalesce(usage_by_account_month.usage_events, 0) > 0
        or expected_by_account_month.account_id is not null
        or billed_account_months.account_id is not null
),

{%- set metrics = [
    ('seats', 'seats', '0'),
    ('active_users', 'active_users', '0'),
    ('input_tokens', 'input_tokens', 'requests'),
    ('output_tokens', 'output_tokens', 'requests'),
    ('tokens', 'input_tokens + output_tokens', 'requests'),
    ('tasks', 'tasks', 'requests'),
    ('agent_tasks', 'agent_tasks', 'requests'),
    ('resolutions', 'resolutions', 'requests'),
    ('requests', 'requests', 'requests'),
    ('credits', 'credits', 'requests'),
    ('plan_seat_charges_usd', 'plan_seat_charges_usd', '0'),
    ('plan_platform_fees_usd', 'plan_platform_fees_usd', '0'),
    ('plan_proration_charges_usd', 'plan_proration_charges_usd', '0'),
    ('plan_proration_credits_usd', 'plan_proration_credits_usd', '0'),
] %}

unpivoted as (
    {%- for metric, quantity, events in metrics %}
    select
        account_id,
        month,
        cast('{{ metric }}' as {{ dbt.type_string() }}) as metric,
        cast({{ quantity }} as {{ rating_decimal() }}) as quantity,
        cast({{ events }} as {{ dbt.type_bigint() }}) as events
    from rated_account_months
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unpivoted
