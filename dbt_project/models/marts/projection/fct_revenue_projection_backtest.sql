-- Grain: one row per segment x months ahead (segment, months_ahead); segment `all` is the sum.
-- The projection's track record (docs block projection_backtest_mape): the same method, run from
-- projection_backtest_months before the as-of month on the base of that month (middle scenario,
-- current model), beside what the current model actually billed that same base in each month
-- since (actual_usd of fct_shadow_invoice; an account that left counts 0). New customers since the
-- origin are left out on both sides: the projection is of today's base, so its error must be too.
-- backtest_mape is the mean, over months 1 .. projection_backtest_months with an actual above 0,
-- of |projected - actual| / actual; month 0 agrees by construction and is not counted.
with

projected as (select * from {{ ref('int_projected_revenue_aggregated_to_segment') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

backtest_projection as (
    select
        segment,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd
    from projected
    where origin_kind = 'backtest'
        and scenario = 'middle'
),

base_actuals as (
    select
        bases.segment,
        shadow_invoices.month,
        sum(coalesce(shadow_invoices.actual_usd, 0)) as actual_revenue_usd
    from bases
    inner join shadow_invoices
        on bases.account_id = shadow_invoices.account_id
            and bases.price_model_id = shadow_invoices.price_model_id
            and bases.origin_month <= shadow_invoices.month
    where bases.origin_kind = 'backtest'
    group by bases.segment, shadow_invoices.month
),

by_segment as (
    select
        backtest_projection.segment,
        backtest_projection.months_ahead,
        backtest_projection.month,
        backtest_projection.origin_month,
        backtest_projection.projected_revenue_usd,
        coalesce(base_actuals.actual_revenue_usd, 0) as actual_revenue_usd
    from backtest_projection
    left join base_actuals
        on backtest_projection.segment = base_actuals.segment
            and backtest_projection.month = base_actuals.month
),

with_all as (
    select * from by_segment
    union all
    select
        'all' as segment,
        months_ahead,
        month,
        origin_month,
        -- decimals: a sum of doubles depends on the order threads add them in
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(cast(actual_revenue_usd as decimal(38, 10))) as actual_revenue_usd
    from by_segment
    group by months_ahead, month, origin_month
),

errors as (
    select
        *,
        case
            when months_ahead >= 1 and actual_revenue_usd > 0
                then abs(projected_revenue_usd - actual_revenue_usd) / actual_revenue_usd
        end as absolute_percentage_error
    from with_all
),

final as (
    select
        segment || '|' || cast(months_ahead as {{ dbt.type_string() }}) as backtest_id,
        segment,
        cast(months_ahead as integer) as months_ahead,
        month,
        origin_month as backtest_origin_month,
        cast(projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(actual_revenue_usd as decimal(18, 4)) as actual_revenue_usd,
        cast(absolute_percentage_error as double) as absolute_percentage_error,
        cast(round(avg(absolute_percentage_error) over (partition by segment), 12) as double)
            as backtest_mape
    from errors
)

select * from final
