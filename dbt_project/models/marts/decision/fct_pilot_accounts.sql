-- Grain: one row per account x proposal (account_id, price_model_id): every account that paid in
-- the trailing window that ends at the last month of data, under every price model but the current.
-- The pilot list: how well each proposal fits each account, over the same trailing window as the
-- migration trigger (trigger_window_months), on the MRR basis (the account's MRR summed over the
-- window against the proposal's shadow charges of the same months, so an annual invoice landing
-- in one month decides nothing). The score and the eligibility are written once, in the docs
-- blocks pilot_fit_score and pilot_eligibility (_decision__docs.md).
{%- set window = var('trigger_window_months') | int %}
{%- set max_change = var('pilot_max_bill_change_pct') %}
{%- set min_change = var('pilot_min_bill_change_pct') %}
{%- set margin_span = var('pilot_margin_span') %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

triggers as (select * from {{ ref('fct_migration_triggers') }}),

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

arms as (select * from {{ ref('int_pilot_arms') }}),

as_of as (
    select max(month) as as_of_month
    from account_months
),

window_bounds as (
    select
        as_of_month,
        {{ dbt.dateadd('month', 1 - window, 'as_of_month') }} as window_start
    from as_of
),

latest_month as (
    select
        account_months.account_id,
        account_months.segment,
        account_months.mrr_usd,
        account_months.billable_seats
    from account_months
    inner join window_bounds
        on account_months.month = window_bounds.as_of_month
),

usage_in_window as (
    select
        account_months.account_id,
        sum(account_months.tasks) as tasks,
        sum(account_months.agent_tasks) as agent_tasks,
        sum(coalesce(account_months.mrr_usd, 0)) as mrr_usd
    from account_months
    inner join window_bounds
        on account_months.month between window_bounds.window_start and window_bounds.as_of_month
    group by account_months.account_id
),

shadow_in_window as (
    select
        shadow_invoices.account_id,
        shadow_invoices.price_model_id,
        count(*) as window_months,
        sum(case when shadow_invoices.is_billed then 1 else 0 end) as billed_months,
        sum(case when shadow_invoices.is_bill_shock then 1 else 0 end) as shocked_months,
        sum(shadow_invoices.shadow_usd) as shadow_usd,
        sum(shadow_invoices.cost_to_serve_usd) as cost_to_serve_usd
    from shadow_invoices
    inner join window_bounds
        on shadow_invoices.month between window_bounds.window_start and window_bounds.as_of_month
    inner join price_models
        on shadow_invoices.price_model_id = price_models.price_model_id
    where not price_models.is_current_model
    group by shadow_invoices.account_id, shadow_invoices.price_model_id
),

measured as (
    select
        shadow_in_window.account_id,
        latest_month.segment,
        shadow_in_window.price_model_id,
        window_bounds.as_of_month,
        shadow_in_window.window_months,
        shadow_in_window.billed_months,
        shadow_in_window.shocked_months,
        coalesce(latest_month.mrr_usd, 0) > 0 as is_active,
        coalesce(latest_month.billable_seats, 0) as billable_seats,
        usage_in_window.mrr_usd as actual_usd,
        shadow_in_window.shadow_usd,
        shadow_in_window.cost_to_serve_usd,
        round(
            cast(shadow_in_window.shadow_usd as double)
            / nullif(usage_in_window.mrr_usd, 0) - 1,
            10
        ) as bill_change_pct,
        round(
            cast(usage_in_window.agent_tasks as double) / nullif(usage_in_window.tasks, 0), 10
        ) as automation_share,
        round(
            cast(usage_in_window.mrr_usd - shadow_in_window.cost_to_serve_usd as double)
            / nullif(usage_in_window.mrr_usd, 0),
            10
        ) as actual_gross_margin,
        round(
            cast(shadow_in_window.shadow_usd - shadow_in_window.cost_to_serve_usd as double)
            / nullif(shadow_in_window.shadow_usd, 0),
            10
        ) as shadow_gross_margin
    from shadow_in_window
    cross join window_bounds
    inner join latest_month
        on shadow_in_window.account_id = latest_month.account_id
    inner join usage_in_window
        on shadow_in_window.account_id = usage_in_window.account_id
    where usage_in_window.mrr_usd > 0
),

-- whether each proposal passes the migration trigger in each segment at the last month of data:
-- value is leaving the seats there, and the proposal's shadow bill-shock rate and revenue change
-- are within their guardrails. A segment whose seats still track value pilots nothing.
verdicts as (
    select
        triggers.segment,
        triggers.price_model_id,
        triggers.is_triggered
    from triggers
    inner join window_bounds
        on triggers.month = window_bounds.as_of_month
),

-- the accounts the assignments export already put in a pilot, and the accounts a pilot's readout
-- holds as its control group (the export's control cohort, else the matched accounts,
-- int_pilot_arms): a pilot list is for accounts still to move, and moving a control account
-- would spoil the readout
assigned as (
    select
        account_id,
        max(case when source = 'pilot' then 1 else 0 end) = 1 as is_in_pilot,
        max(case when source = 'control' then 1 else 0 end) = 1 as is_in_control
    from (
        select
            account_id,
            cast('pilot' as {{ dbt.type_string() }}) as source
        from assignments
        where cohort = 'pilot'
        union all
        select
            account_id,
            cast('control' as {{ dbt.type_string() }}) as source
        from arms
        where arm = 'control'
    ) as assigned_accounts
    group by account_id
),

with_verdicts as (
    select
        measured.*,
        coalesce(verdicts.is_triggered, false) as is_proposal_passing,
        coalesce(assigned.is_in_pilot, false) as is_in_pilot,
        coalesce(assigned.is_in_control, false) as is_in_control_group
    from measured
    left join verdicts
        on measured.segment = verdicts.segment
            and measured.price_model_id = verdicts.price_model_id
    left join assigned
        on measured.account_id = assigned.account_id
),

-- Each part of the score is a fraction from 0 (fits badly) to 1 (fits well).
fitted as (
    select
        *,
        shadow_gross_margin - actual_gross_margin as margin_change,
        case
            when bill_change_pct is null then 0
            when bill_change_pct <= 0 then 1
            else greatest(1 - bill_change_pct / {{ max_change }}, 0)
        end as bill_fit,
        coalesce(automation_share, 0) as automation_fit,
        case
            when shadow_gross_margin is null or actual_gross_margin is null then 0
            else least(
                    greatest(
                        0.5 + (shadow_gross_margin - actual_gross_margin) / (2 * {{ margin_span }}),
                        0
                    ),
                    1
                )
        end as margin_fit
    from with_verdicts
),

eligibility as (
    select
        *,
        coalesce(bill_change_pct between {{ min_change }} and {{ max_change }}, false)
            as is_bill_change_within_range,
        case
            when not is_proposal_passing
                then 'the proposal does not pass the trigger in the segment'
            when is_in_pilot then 'already in a pilot'
            when is_in_control_group then 'in the control group of a pilot'
            when not is_active then 'pays nothing at the last month'
            when shocked_months > 0 then 'shocked under the proposal in the window'
            when bill_change_pct > {{ max_change }} then 'bill rises more than the limit'
            when bill_change_pct < {{ min_change }} then 'bill falls more than the limit'
            when bill_change_pct is null then 'no bill to compare'
        end as ineligible_reason
    from fitted
),

scored as (
    select
        *,
        ineligible_reason is null as is_pilot_eligible,
        round((bill_fit + automation_fit + margin_fit) / 3, 10) as fit_score
    from eligibility
),

ranked as (
    select
        *,
        row_number() over (
            partition by segment, price_model_id
            order by
                case when is_pilot_eligible then 0 else 1 end asc,
                fit_score desc,
                account_id asc
        ) as fit_rank
    from scored
),

final as (
    select
        account_id || '|' || price_model_id as pilot_account_id,
        account_id,
        segment,
        price_model_id,
        as_of_month,
        cast(window_months as {{ dbt.type_bigint() }}) as window_months,
        cast(billed_months as {{ dbt.type_bigint() }}) as billed_months,
        cast(shocked_months as {{ dbt.type_bigint() }}) as shocked_months,
        is_active,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        cast(actual_usd as decimal(18, 4)) as actual_usd,
        cast(shadow_usd as decimal(18, 4)) as shadow_usd,
        cast(cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd,
        bill_change_pct,
        automation_share,
        actual_gross_margin,
        shadow_gross_margin,
        round(margin_change, 10) as margin_change,
        round(bill_fit, 10) as bill_fit,
        round(automation_fit, 10) as automation_fit,
        round(margin_fit, 10) as margin_fit,
        fit_score,
        is_pilot_eligible,
        cast(fit_rank as {{ dbt.type_bigint() }}) as fit_rank,
        is_proposal_passing,
        is_in_pilot,
        is_in_control_group,
        is_bill_change_within_range,
        ineligible_reason
    from ranked
)

select * from final
