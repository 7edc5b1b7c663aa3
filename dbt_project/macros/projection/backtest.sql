{#- The backtest: the projection of an earlier origin's base beside the MRR that base really had,
    and beside two naive forecasts (flat; trailing NRR). -#}


{#- The projection's track record on the MRR basis (docs block projection_backtest_mape): the
    backtest origin's middle scenario under the current model beside the MRR that same base
    actually had (`actuals`: account_id, segment, month, mrr_usd; fct_account_month) in each month
    since; an account that left counts 0, new customers are left out on both sides. Beside it two
    naive forecasts of the same base on the same months: `flat` (month 0 carried forward) and
    `trailing NRR` (the segment's net revenue retention over the projection_history_months before
    the origin, or the months there are, applied month by month). Each error is the mean, over
    months 1 .. with an actual above 0, of |forecast - actual| / actual. `all` is the sum of the
    segments, forecasts and actuals alike. One row per segment (and `all`) x months ahead,
    fct_revenue_projection_backtest's. -#}
{% macro projection_backtest_results(by_segment, bases, actuals) -%}
{%- set history = var('projection_history_months') | int -%}
projection_backtest_projected as (
    select
        segment,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd
    from {{ by_segment }}
    where origin_kind = 'backtest'
        and scenario = 'middle'
),

projection_backtest_bases as (
    select
        origin_month,
        account_id,
        segment,
        base_usd
    from {{ bases }}
    where origin_kind = 'backtest'
),

projection_backtest_actuals as (
    select
        projection_backtest_bases.segment,
        backtest_actuals.month,
        sum(coalesce(backtest_actuals.mrr_usd, 0)) as actual_revenue_usd
    from projection_backtest_bases
    inner join {{ actuals }} as backtest_actuals
        on projection_backtest_bases.account_id = backtest_actuals.account_id
            and projection_backtest_bases.origin_month <= backtest_actuals.month
    group by projection_backtest_bases.segment, backtest_actuals.month
),

projection_backtest_start as (
    select
        sum(base_usd) as base_usd,
        segment
    from projection_backtest_bases
    group by segment
),

-- where the trailing NRR's window starts: projection_history_months before the origin, or the
-- first month of data
projection_backtest_origin as (
    select max(origin_month) as origin_month
    from projection_backtest_bases
),

projection_backtest_first_month as (
    select min(month) as first_month
    from {{ actuals }}
),

projection_backtest_nrr_window as (
    select
        projection_backtest_origin.origin_month,
        greatest(
            projection_backtest_first_month.first_month,
            cast({{ dbt.dateadd("month", -history, "projection_backtest_origin.origin_month") }} as date)
        ) as window_start
    from projection_backtest_origin
    cross join projection_backtest_first_month
),

projection_backtest_nrr_accounts as (
    select
        window_start_month.segment,
        window_start_month.mrr_usd as start_mrr_usd,
        coalesce(origin_month.mrr_usd, 0) as origin_mrr_usd
    from {{ actuals }} as window_start_month
    inner join projection_backtest_nrr_window
        on window_start_month.month = projection_backtest_nrr_window.window_start
    left join {{ actuals }} as origin_month
        on window_start_month.account_id = origin_month.account_id
            and origin_month.month = projection_backtest_nrr_window.origin_month
    where window_start_month.mrr_usd > 0
),

projection_backtest_nrr as (
    select
        projection_backtest_nrr_accounts.segment,
        cast(sum(projection_backtest_nrr_accounts.origin_mrr_usd) as double)
        / sum(projection_backtest_nrr_accounts.start_mrr_usd) as trailing_nrr,
        max({{ dbt.datediff(
            'projection_backtest_nrr_window.window_start',
            'projection_backtest_nrr_window.origin_month',
            'month'
        ) }}) as nrr_months
    from projection_backtest_nrr_accounts
    cross join projection_backtest_nrr_window
    group by projection_backtest_nrr_accounts.segment
),

projection_backtest_by_segment as (
    select
        projection_backtest_projected.segment,
        projection_backtest_projected.months_ahead,
        projection_backtest_projected.month,
        projection_backtest_projected.origin_month,
        projection_backtest_projected.projected_revenue_usd,
        coalesce(projection_backtest_actuals.actual_revenue_usd, 0) as actual_revenue_usd,
        projection_backtest_start.base_usd as flat_revenue_usd,
        projection_backtest_start.base_usd * case
            when projection_backtest_nrr.nrr_months > 0 and projection_backtest_nrr.trailing_nrr > 0
                then power(
                    projection_backtest_nrr.trailing_nrr,
                    cast(projection_backtest_projected.months_ahead as double)
                    / projection_backtest_nrr.nrr_months
                )
            else 1
        end as trailing_nrr_revenue_usd,
        projection_backtest_nrr.trailing_nrr
    from projection_backtest_projected
    inner join projection_backtest_start
        on projection_backtest_projected.segment = projection_backtest_start.segment
    left join projection_backtest_actuals
        on projection_backtest_projected.segment = projection_backtest_actuals.segment
            and projection_backtest_projected.month = projection_backtest_actuals.month
    left join projection_backtest_nrr
        on projection_backtest_projected.segment = projection_backtest_nrr.segment
),

projection_backtest_with_all as (
    select
        segment,
        months_ahead,
        month,
        origin_month,
        cast(projected_revenue_usd as decimal(38, 10)) as projected_revenue_usd,
        cast(actual_revenue_usd as decimal(38, 10)) as actual_revenue_usd,
        cast(flat_revenue_usd as decimal(38, 10)) as flat_revenue_usd,
        cast(trailing_nrr_revenue_usd as decimal(38, 10)) as trailing_nrr_revenue_usd,
        trailing_nrr
    from projection_backtest_by_segment
    union all
    select
        'all' as segment,
        months_ahead,
        month,
        origin_month,
        -- decimals: a sum of doubles depends on the order threads add them in
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(cast(actual_revenue_usd as decimal(38, 10))) as actual_revenue_usd,
        sum(cast(flat_revenue_usd as decimal(38, 10))) as flat_revenue_usd,
        sum(cast(trailing_nrr_revenue_usd as decimal(38, 10))) as trailing_nrr_revenue_usd,
        cast(null as double) as trailing_nrr
    from projection_backtest_by_segment
    group by months_ahead, month, origin_month
),

projection_backtest_errors as (
    select
        *,
        {%- for forecast in ['projected', 'flat', 'trailing_nrr'] %}
        case
            when months_ahead >= 1 and actual_revenue_usd > 0
                then abs(
                    cast({{ forecast }}_revenue_usd as double) - cast(actual_revenue_usd as double)
                ) / cast(actual_revenue_usd as double)
        end as {{ 'absolute' if forecast == 'projected' else forecast }}_percentage_error
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from projection_backtest_with_all
),

projection_backtest_rows as (
    select
        segment || '|' || cast(months_ahead as {{ dbt.type_string() }}) as backtest_id,
        segment,
        cast(months_ahead as integer) as months_ahead,
        month,
        origin_month as backtest_origin_month,
        cast(projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(actual_revenue_usd as decimal(18, 4)) as actual_revenue_usd,
        cast(flat_revenue_usd as decimal(18, 4)) as flat_revenue_usd,
        cast(trailing_nrr_revenue_usd as decimal(18, 4)) as trailing_nrr_revenue_usd,
        cast(round(trailing_nrr, 10) as double) as trailing_nrr,
        cast(absolute_percentage_error as double) as absolute_percentage_error,
        cast(round(avg(absolute_percentage_error) over (partition by segment), 12) as double)
            as backtest_mape,
        cast(round(avg(flat_percentage_error) over (partition by segment), 12) as double)
            as flat_mape,
        cast(round(avg(trailing_nrr_percentage_error) over (partition by segment), 12) as double)
            as trailing_nrr_mape
    from projection_backtest_errors
)
{%- endmacro %}


{#- The price book the backtest is rated under: the models its bases are billed by (the current
    one), out of `components` (a relation, in parentheses). -#}
{% macro projection_backtest_components(components, bases) -%}
(
    select *
    from {{ components }}
    where price_model_id in (
        select price_model_id
        from {{ bases }}
        where origin_kind = 'backtest'
    )
)
{%- endmacro %}
