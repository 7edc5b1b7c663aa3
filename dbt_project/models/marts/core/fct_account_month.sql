-- Grain: one row per account per month, from the account's first month to the data's as-of month.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

seats as (select * from {{ ref('int_seat_events_netted_to_account_month') }}),

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

actors_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_actor_month') }}),

mrr as (select * from {{ ref('int_account_months_mrr_classified') }}),

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

bill_shock as (select * from {{ ref('int_account_months_judged_for_bill_shock') }}),

usage_costs as (select * from {{ ref('int_usage_costed_to_account_month') }}),

support_tickets as (select * from {{ ref('int_support_tickets_counted_to_account_month') }}),

usage_by_account_month as (
    select
        usage_rolled_up.account_id,
        usage_rolled_up.month,
        {{ account_month_usage_measures('usage_rolled_up') }}
    from usage_rolled_up
    group by usage_rolled_up.account_id, usage_rolled_up.month
),

active_users_by_account_month as (
    {{ account_month_active_users('actors_rolled_up') }}
),

-- Revenue excludes the tax collected for governments; the bill the customer sees includes it.
invoiced_excluding_tax as (
    select
        account_id,
        issued_month as month,
        case when count(subtotal_usd) = count(*) then sum(subtotal_usd) end
            as invoiced_excluding_tax_usd
    from invoices
    where is_billed
    group by account_id, issued_month
),

current_bill_shock as (
    select
        account_id,
        month,
        billed_usd,
        is_billed,
        is_judged,
        is_bill_shock
    from bill_shock
    where price_model_id = 'current'
),

joined as (
    select
        account_months.account_id,
        account_months.month,
        accounts.segment,
        account_months.first_month,
        mrr.cohort_month,
        coalesce(seats.billable_seats, 0) as billable_seats,
        coalesce(active_users_by_account_month.active_users, 0) as active_users,
        coalesce(usage_by_account_month.usage_events, 0) as usage_events,
        coalesce(usage_by_account_month.tasks, 0) as tasks,
        coalesce(usage_by_account_month.agent_tasks, 0) as agent_tasks,
        coalesce(usage_by_account_month.human_tasks, 0) as human_tasks,
        coalesce(usage_by_account_month.resolved_tasks, 0) as resolved_tasks,
        coalesce(usage_by_account_month.input_tokens, 0) as input_tokens,
        coalesce(usage_by_account_month.output_tokens, 0) as output_tokens,
        mrr.mrr_usd,
        mrr.previous_mrr_usd,
        mrr.mrr_movement,
        mrr.mrr_movement_usd,
        mrr.mrr_fx_effect_usd,
        current_bill_shock.is_billed,
        current_bill_shock.billed_usd as invoiced_usd,
        case
            when current_bill_shock.is_billed then invoiced_excluding_tax.invoiced_excluding_tax_usd
            else 0
        end as invoiced_excluding_tax_usd,
        current_bill_shock.is_judged as is_bill_shock_judged,
        current_bill_shock.is_bill_shock,
        -- no usage, no cost; a usage month with an unpriced tier stays null
        case
            when usage_costs.account_id is null then 0 else usage_costs.cost_to_serve_usd
        end as cost_to_serve_usd,
        coalesce(support_tickets.support_tickets, 0) as support_tickets,
        coalesce(support_tickets.billing_tickets, 0) as billing_tickets,
        coalesce(support_tickets.pricing_tickets, 0) as pricing_tickets
    from account_months
    inner join accounts
        on account_months.account_id = accounts.account_id
    inner join mrr
        on account_months.account_id = mrr.account_id
            and account_months.month = mrr.month
    inner join current_bill_shock
        on account_months.account_id = current_bill_shock.account_id
            and account_months.month = current_bill_shock.month
    left join seats
        on account_months.account_id = seats.account_id
            and account_months.month = seats.month
    left join usage_by_account_month
        on account_months.account_id = usage_by_account_month.account_id
            and account_months.month = usage_by_account_month.month
    left join active_users_by_account_month
        on account_months.account_id = active_users_by_account_month.account_id
            and account_months.month = active_users_by_account_month.month
    left join invoiced_excluding_tax
        on account_months.account_id = invoiced_excluding_tax.account_id
            and account_months.month = invoiced_excluding_tax.month
    left join usage_costs
        on account_months.account_id = usage_costs.account_id
            and account_months.month = usage_costs.month
    left join support_tickets
        on account_months.account_id = support_tickets.account_id
            and account_months.month = support_tickets.month
),

ratios as (
    select
        *,
        cast(active_users as double) / nullif(billable_seats, 0)
            as seat_utilization,
        cast(agent_tasks as double) / nullif(tasks, 0) as automation_share,
        cast((mrr_usd - cost_to_serve_usd) as double) / nullif(mrr_usd, 0) as gross_margin
    from joined
),

final as (
    select
        account_id || '|' || cast(month as {{ dbt.type_string() }}) as account_month_id,
        account_id,
        month,
        segment,
        first_month,
        cohort_month,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        cast(active_users as {{ dbt.type_bigint() }}) as active_users,
        seat_utilization,
        case
            when seat_utilization is null then null
            when seat_utilization > {{ var('utilization_unlicensed') }} then 'unlicensed'
            when seat_utilization >= {{ var('utilization_healthy') }} then 'healthy'
            when seat_utilization < {{ var('utilization_red_flag') }} then 'red_flag'
            else 'watch'
        end as seat_utilization_band,
        cast(usage_events as {{ dbt.type_bigint() }}) as usage_events,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(agent_tasks as {{ dbt.type_bigint() }}) as agent_tasks,
        cast(human_tasks as {{ dbt.type_bigint() }}) as human_tasks,
        automation_share,
        cast(resolved_tasks as {{ dbt.type_bigint() }}) as resolved_tasks,
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        cast(mrr_usd as decimal(18, 4)) as mrr_usd,
        cast(previous_mrr_usd as decimal(18, 4)) as previous_mrr_usd,
        mrr_movement,
        cast(mrr_movement_usd as decimal(18, 4)) as mrr_movement_usd,
        cast(mrr_fx_effect_usd as decimal(18, 4)) as mrr_fx_effect_usd,
        is_billed,
        cast(invoiced_usd as decimal(18, 4)) as invoiced_usd,
        cast(invoiced_excluding_tax_usd as decimal(18, 4)) as invoiced_excluding_tax_usd,
        cast(cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd,
        gross_margin,
        coalesce(mrr_usd > 0 and cost_to_serve_usd > mrr_usd, false) as is_power_user,
        is_bill_shock_judged,
        is_bill_shock,
        cast(support_tickets as {{ dbt.type_bigint() }}) as support_tickets,
        cast(billing_tickets as {{ dbt.type_bigint() }}) as billing_tickets,
        cast(pricing_tickets as {{ dbt.type_bigint() }}) as pricing_tickets
    from ratios
)

select * from final
