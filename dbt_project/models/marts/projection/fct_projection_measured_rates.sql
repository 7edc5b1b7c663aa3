-- Grain: one row per origin x segment x metric (origin_kind, segment, metric).
-- The monthly churn and growth rates measured over the history window that ends at each origin
-- (the projection's and its backtest's), before the scenarios and the multipliers move them
-- (int_projection_rates_by_segment): an input of the Projection page's re-projection
-- (rpt_projection_sql), which applies edited assumptions to these.
with

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

final as (
    select distinct
        origin_kind || '|' || segment || '|' || metric as projection_measured_rate_id,
        origin_kind,
        segment,
        metric,
        cast(measured_churn_rate as double) as measured_churn_rate,
        cast(churn_rate_error as double) as churn_rate_error,
        cast(measured_growth_rate as double) as measured_growth_rate,
        cast(growth_rate_error as double) as growth_rate_error,
        is_growth_trended,
        cast(growth_trend_level as double) as growth_trend_level,
        cast(growth_trend_slope as double) as growth_trend_slope
    from rates
)

select * from final
