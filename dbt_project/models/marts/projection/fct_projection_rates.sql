-- Grain: one row per segment x scenario x metric (segment, scenario, metric).
-- The rates the revenue projection applies from the as-of month, as measured and as used
-- (int_projection_rates_by_segment, origin `projection`): what the dashboard shows beside the
-- projection so every assumption is in sight.
with

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

final as (
    select
        segment || '|' || scenario || '|' || metric as projection_rate_id,
        segment,
        scenario,
        metric,
        cast(measured_churn_rate as double) as measured_churn_rate,
        cast(churn_rate_error as double) as churn_rate_error,
        cast(monthly_churn_rate as double) as monthly_churn_rate,
        cast(measured_growth_rate as double) as measured_growth_rate,
        cast(growth_rate_error as double) as growth_rate_error,
        cast(monthly_growth_rate as double) as monthly_growth_rate,
        is_growth_trended,
        cast(growth_trend_slope as double) as growth_trend_slope
    from rates
    where origin_kind = 'projection'
)

select * from final
