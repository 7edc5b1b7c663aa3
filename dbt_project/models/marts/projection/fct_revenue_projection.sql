-- Grain: one row per segment x price model x scenario x months ahead
-- (segment, price_model_id, scenario, months_ahead); segment `all` is the sum of the segments.
-- What today's base would bill under each model over the next projection_horizon_months, in three
-- scenarios (docs block revenue_projection). The engine is
-- int_projected_revenue_aggregated_to_segment; here the three rate sets become the scenarios:
-- for each segment, model and month, `worst` is the lowest of the three projections, `middle`
-- the median and `best` the highest. With the usual price
-- books that is the rate set of the same name (rate_scenario says which it was); a book whose
-- bill falls as usage rises (volume tiers, negative prices) can swap them, and a scenario named
-- `best` must never show less than `worst`. backtest_mape is the current model's error over the
-- backtest (fct_revenue_projection_backtest); a proposal, never billed, carries it
-- (is_backtest_carried): its projection uses the same churn and drift, so the method's track
-- record is the best evidence there is of how far to trust it.
with

projected as (select * from {{ ref('int_projected_revenue_aggregated_to_segment') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

backtest as (select * from {{ ref('fct_revenue_projection_backtest') }}),

by_segment as (
    select
        segment,
        price_model_id,
        scenario as rate_scenario,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd,
        projected_accounts,
        base_accounts,
        row_number() over (
            partition by segment, price_model_id, months_ahead
            order by
                projected_revenue_usd asc,
                case scenario when 'worst' then 1 when 'middle' then 2 else 3 end asc
        ) as scenario_position
    from projected
    where origin_kind = 'projection'
),

ordered as (
    select
        *,
        case scenario_position when 1 then 'worst' when 2 then 'middle' else 'best' end
            as scenario
    from by_segment
),

with_all as (
    select
        segment,
        price_model_id,
        scenario,
        rate_scenario,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd,
        projected_accounts,
        base_accounts
    from ordered
    union all
    select
        'all' as segment,
        price_model_id,
        scenario,
        case when count(distinct rate_scenario) = 1 then max(rate_scenario) else 'mixed' end
            as rate_scenario,
        months_ahead,
        month,
        origin_month,
        -- summed as decimals: a sum of doubles depends on the order DuckDB's threads add them in,
        -- and a refresh with nothing new must give the same rows
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(cast(projected_accounts as decimal(38, 10))) as projected_accounts,
        sum(base_accounts) as base_accounts
    from ordered
    group by price_model_id, scenario, months_ahead, month, origin_month
),

mape as (
    select
        segment,
        max(backtest_mape) as backtest_mape,
        max(backtest_origin_month) as backtest_origin_month
    from backtest
    group by segment
),

final as (
    select
        with_all.segment || '|' || with_all.price_model_id || '|' || with_all.scenario || '|'
        || cast(with_all.months_ahead as {{ dbt.type_string() }}) as revenue_projection_id,
        with_all.segment,
        with_all.price_model_id,
        with_all.scenario,
        cast(with_all.months_ahead as integer) as months_ahead,
        with_all.month,
        with_all.origin_month as as_of_month,
        price_models.is_current_model,
        cast(with_all.projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(with_all.projected_accounts as double) as projected_accounts,
        cast(with_all.base_accounts as {{ dbt.type_bigint() }}) as base_accounts,
        with_all.rate_scenario,
        mape.backtest_mape,
        not price_models.is_current_model as is_backtest_carried,
        mape.backtest_origin_month
    from with_all
    inner join price_models
        on with_all.price_model_id = price_models.price_model_id
    left join mape
        on with_all.segment = mape.segment
)

select * from final
