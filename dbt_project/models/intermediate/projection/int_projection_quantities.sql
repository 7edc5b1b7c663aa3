-- Grain: one row per origin month x account x metric (account_id, month, metric).
-- The quantities a projection starts from, at each origin month (int_projection_origins), on the
-- MRR basis (docs block revenue_projection): every rated quantity of the account-month
-- (int_account_month_metrics_unpivoted), except that the current plan's own charges are its MRR
-- at the month's end (recurring charges, an annual plan at a twelfth) in place of the month's
-- invoice lines, which land an annual invoice in one month. The whole MRR stands as the seat
-- charges, the platform fee being part of it; prorations are one-off catch-ups, not MRR.
-- Beside the MRR, the account's own momentum: its MRR's monthly growth over the
-- projection_momentum_months before the origin, ln(MRR now / MRR then) / months (null when it
-- had no MRR then), which the projection carries forward, damped (docs block
-- projection_growth_trend).
{%- set momentum_months = var('projection_momentum_months') | int %}
with

origins as (select * from {{ ref('int_projection_origins') }}),

metrics as (select * from {{ ref('int_account_month_metrics_unpivoted') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

origin_months as (
    select distinct origin_month
    from origins
),

usage_quantities as (
    select
        metrics.account_id,
        metrics.month,
        metrics.metric,
        metrics.quantity,
        metrics.events,
        cast(null as double) as momentum_log_growth
    from metrics
    inner join origin_months
        on metrics.month = origin_months.origin_month
    where
        metrics.metric not in (
            'plan_seat_charges_usd',
            'plan_platform_fees_usd',
            'plan_proration_charges_usd',
            'plan_proration_credits_usd'
        )
),

mrr_quantities as (
    select
        account_months.account_id,
        account_months.month,
        cast('plan_seat_charges_usd' as {{ dbt.type_string() }}) as metric,
        cast(account_months.mrr_usd as {{ rating_decimal() }}) as quantity,
        cast(0 as {{ dbt.type_bigint() }}) as events,
        case
            when earlier_months.mrr_usd > 0
                then ln(cast(account_months.mrr_usd as double) / earlier_months.mrr_usd)
                    / {{ momentum_months }}
        end as momentum_log_growth
    from account_months
    inner join origin_months
        on account_months.month = origin_months.origin_month
    left join account_months as earlier_months
        on account_months.account_id = earlier_months.account_id
            and earlier_months.month
            = {{ dbt.dateadd('month', -momentum_months, 'account_months.month') }}
    where account_months.mrr_usd > 0
),

final as (
    select * from usage_quantities
    union all
    select * from mrr_quantities
)

select * from final
