-- Grain: one row per month x segment (plus segment `all`), every month from the first month of data
-- to the as-of month. The portfolio series of the Seat health and Value shift pages.
-- The MRR waterfall adds up: starting + new + expansion + contraction + churn + reactivation +
-- fx_effect = ending (contraction and churn are negative; fx_effect is zero for USD accounts).
with

account_months as (select * from {{ ref('fct_account_month') }}),

-- Invoice variance of an account at month m: its monthly totals over the trailing window of
-- `invoice_variance_months` (billed months only), population standard deviation over mean.
billed_months as (
    select
        account_id,
        month,
        invoiced_usd
    from account_months
    where is_billed
),

account_invoice_variance as (
    select
        billed_months.account_id,
        billed_months.month,
        case
            when count(window_months.invoiced_usd) >= 2
                then
                    stddev_pop(cast(window_months.invoiced_usd as double))
                    / nullif(avg(cast(window_months.invoiced_usd as double)), 0)
        end as invoice_variance
    from billed_months
    inner join billed_months as window_months
        on billed_months.account_id = window_months.account_id
            and billed_months.month >= window_months.month
            and window_months.month > {{ dbt.dateadd(
                'month', '-1 * ' ~ var('invoice_variance_months'), 'billed_months.month'
            ) }}
    group by billed_months.account_id, billed_months.month
),

enriched as (
    select
        account_months.*,
        account_invoice_variance.invoice_variance
    from account_months
    left join account_invoice_variance
        on account_months.account_id = account_invoice_variance.account_id
            and account_months.month = account_invoice_variance.month
),

-- each account counts in its own segment and in `all`
by_segment as (
    select
        enriched.segment as reporting_segment,
        enriched.*
    from enriched
    union all
    select
        'all' as reporting_segment,
        enriched.*
    from enriched
),

aggregated as (
    select
        month,
        reporting_segment as segment,
        sum(previous_mrr_usd) as starting_mrr_usd,
        sum(case when mrr_movement = 'new' then mrr_movement_usd else 0 end) as new_mrr_usd,
        sum(case when mrr_movement = 'expansion' then mrr_movement_usd else 0 end)
            as expansion_mrr_usd,
        sum(case when mrr_movement = 'contraction' then mrr_movement_usd else 0 end)
            as contraction_mrr_usd,
        sum(case when mrr_movement = 'churn' then mrr_movement_usd else 0 end) as churned_mrr_usd,
        sum(case when mrr_movement = 'reactivation' then mrr_movement_usd else 0 end)
            as reactivation_mrr_usd,
        sum(mrr_fx_effect_usd) as fx_effect_mrr_usd,
        sum(mrr_usd) as ending_mrr_usd,
        sum(case when mrr_movement = 'new' then 1 else 0 end) as new_accounts,
        sum(case when mrr_movement = 'churn' then 1 else 0 end) as churned_accounts,
        sum(case when mrr_usd > 0 then 1 else 0 end) as paying_accounts,
        sum(case when mrr_usd > 0 then billable_seats else 0 end) as paid_seats,
        sum(billable_seats) as billable_seats,
        sum(active_users) as active_users,
        sum(case when is_billed then 1 else 0 end) as billed_accounts,
        sum(invoiced_usd) as invoiced_usd,
        sum(invoiced_excluding_tax_usd) as invoiced_excluding_tax_usd,
        -- Rounded: a parallel sum of doubles differs in its last bits from build to build, and the
        -- same inputs must publish the same numbers.
        round(avg(case when is_billed then invoice_variance end), 9) as invoice_variance,
        sum(billing_tickets + pricing_tickets) as billing_and_pricing_tickets,
        sum(tasks) as tasks,
        sum(agent_tasks) as agent_tasks,
        sum(input_tokens + output_tokens) as tokens,
        sum(cost_to_serve_usd) as cost_to_serve_usd,
        sum(case when seat_utilization is not null then 1 else 0 end) as accounts_with_seats,
        sum(case when seat_utilization_band = 'healthy' then 1 else 0 end) as healthy_accounts,
        sum(case when seat_utilization_band = 'watch' then 1 else 0 end) as watch_accounts,
        sum(case when seat_utilization_band = 'red_flag' then 1 else 0 end) as red_flag_accounts,
        sum(case when seat_utilization_band = 'unlicensed' then 1 else 0 end)
            as unlicensed_accounts,
        sum(case when is_power_user then 1 else 0 end) as power_user_accounts
    from by_segment
    group by month, reporting_segment
),

final as (
    select
        month,
        segment,
        cast(starting_mrr_usd as decimal(18, 4)) as starting_mrr_usd,
        cast(new_mrr_usd as decimal(18, 4)) as new_mrr_usd,
        cast(expansion_mrr_usd as decimal(18, 4)) as expansion_mrr_usd,
        cast(contraction_mrr_usd as decimal(18, 4)) as contraction_mrr_usd,
        cast(churned_mrr_usd as decimal(18, 4)) as churned_mrr_usd,
        cast(reactivation_mrr_usd as decimal(18, 4)) as reactivation_mrr_usd,
        cast(fx_effect_mrr_usd as decimal(18, 4)) as fx_effect_mrr_usd,
        cast(ending_mrr_usd as decimal(18, 4)) as ending_mrr_usd,
        cast(new_mrr_usd + expansion_mrr_usd + reactivation_mrr_usd as double)
        / nullif(-(contraction_mrr_usd + churned_mrr_usd), 0) as quick_ratio,
        cast(new_accounts as {{ dbt.type_bigint() }}) as new_accounts,
        cast(churned_accounts as {{ dbt.type_bigint() }}) as churned_accounts,
        cast(paying_accounts as {{ dbt.type_bigint() }}) as paying_accounts,
        cast(paid_seats as {{ dbt.type_bigint() }}) as paid_seats,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        cast(active_users as {{ dbt.type_bigint() }}) as active_users,
        cast(billed_accounts as {{ dbt.type_bigint() }}) as billed_accounts,
        cast(invoiced_usd as decimal(18, 4)) as invoiced_usd,
        cast(invoiced_excluding_tax_usd as decimal(18, 4)) as invoiced_excluding_tax_usd,
        cast(invoiced_excluding_tax_usd as double) / nullif(billed_accounts, 0) as arpa_usd,
        cast(invoiced_excluding_tax_usd as double) / nullif(paid_seats, 0) as arpu_usd,
        invoice_variance,
        cast(billing_and_pricing_tickets as {{ dbt.type_bigint() }})
            as billing_and_pricing_tickets,
        100 * cast(billing_and_pricing_tickets as double) / nullif(billed_accounts, 0)
            as support_load,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(agent_tasks as {{ dbt.type_bigint() }}) as agent_tasks,
        cast(agent_tasks as double) / nullif(tasks, 0) as automation_share,
        cast(tokens as {{ dbt.type_bigint() }}) as tokens,
        cast(tokens as double) / nullif(billable_seats, 0) as tokens_per_seat,
        cast(tasks as double) / nullif(billable_seats, 0) as tasks_per_seat,
        cast(active_users as double) / nullif(billable_seats, 0) as seat_utilization,
        cast(accounts_with_seats as {{ dbt.type_bigint() }}) as accounts_with_seats,
        cast(healthy_accounts as {{ dbt.type_bigint() }}) as healthy_accounts,
        cast(watch_accounts as {{ dbt.type_bigint() }}) as watch_accounts,
        cast(red_flag_accounts as {{ dbt.type_bigint() }}) as red_flag_accounts,
        cast(unlicensed_accounts as {{ dbt.type_bigint() }}) as unlicensed_accounts,
        cast(red_flag_accounts as double) / nullif(accounts_with_seats, 0)
            as share_below_red_flag,
        cast(cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd,
        cast(ending_mrr_usd - cost_to_serve_usd as double) / nullif(ending_mrr_usd, 0)
            as gross_margin,
        cast(power_user_accounts as {{ dbt.type_bigint() }}) as power_user_accounts
    from aggregated
)

select * from final
