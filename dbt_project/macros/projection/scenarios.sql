{#- The projection's published rows: three rate sets become the worst, middle and best scenarios. -#}


{#- fct_revenue_projection's rows (docs block projection_scenario): the projection origin's three
    rate sets become the scenarios, for each segment, model and month `worst` the lowest of the
    three projections, `middle` the median and `best` the highest (rate_scenario says which set it
    was); the projection under customer choice of a row is that of the same rate set;
    `all` is the sum of the segments; backtest_mape is the current model's error over the
    backtest (`backtest`: projection_backtest_rows), carried by the proposals. `price_models`:
    price_model_id, is_current_model. -#}
{% macro revenue_projection_results(by_segment, backtest, price_models) -%}
projection_ordered_by_segment as (
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
        projected_choice_revenue_usd,
        choosing_accounts,
        row_number() over (
            partition by segment, price_model_id, months_ahead
            order by
                projected_revenue_usd asc,
                case scenario when 'worst' then 1 when 'middle' then 2 else 3 end asc
        ) as scenario_position
    from {{ by_segment }}
    where origin_kind = 'projection'
),

projection_ordered as (
    select
        *,
        case scenario_position when 1 then 'worst' when 2 then 'middle' else 'best' end
            as scenario
    from projection_ordered_by_segment
),

projection_with_all as (
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
        base_accounts,
        projected_choice_revenue_usd,
        choosing_accounts
    from projection_ordered
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
        sum(base_accounts) as base_accounts,
        sum(cast(projected_choice_revenue_usd as decimal(38, 10)))
            as projected_choice_revenue_usd,
        sum(choosing_accounts) as choosing_accounts
    from projection_ordered
    group by price_model_id, scenario, months_ahead, month, origin_month
),

projection_mape as (
    select
        segment,
        max(backtest_mape) as backtest_mape,
        max(flat_mape) as flat_mape,
        max(trailing_nrr_mape) as trailing_nrr_mape,
        max(backtest_origin_month) as backtest_origin_month
    from {{ backtest }}
    group by segment
),

revenue_projection_rows as (
    select
        projection_with_all.segment || '|' || projection_with_all.price_model_id || '|'
        || projection_with_all.scenario || '|'
        || cast(projection_with_all.months_ahead as {{ dbt.type_string() }})
            as revenue_projection_id,
        projection_with_all.segment,
        projection_with_all.price_model_id,
        projection_with_all.scenario,
        cast(projection_with_all.months_ahead as integer) as months_ahead,
        projection_with_all.month,
        projection_with_all.origin_month as as_of_month,
        projection_price_models.is_current_model,
        cast(projection_with_all.projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(projection_with_all.projected_accounts as double) as projected_accounts,
        cast(projection_with_all.base_accounts as {{ dbt.type_bigint() }}) as base_accounts,
        projection_with_all.rate_scenario,
        projection_mape.backtest_mape,
        not projection_price_models.is_current_model as is_backtest_carried,
        projection_mape.backtest_origin_month,
        projection_mape.flat_mape,
        projection_mape.trailing_nrr_mape,
        cast(projection_with_all.projected_choice_revenue_usd as decimal(18, 4))
            as projected_choice_revenue_usd,
        cast(projection_with_all.choosing_accounts as {{ dbt.type_bigint() }}) as choosing_accounts
    from projection_with_all
    inner join {{ price_models }} as projection_price_models
        on projection_with_all.price_model_id = projection_price_models.price_model_id
    left join projection_mape
        on projection_with_all.segment = projection_mape.segment
)
{%- endmacro %}
