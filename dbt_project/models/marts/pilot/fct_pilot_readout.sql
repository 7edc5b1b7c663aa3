-- Grain: one row per pilot model x metric (pilot_model_id, metric).
-- The pilot read out against its control group (docs block pilot_readout): for each metric of
-- macro pilot_readout_metric_sql, the mean over the units of each arm before and after the switch
-- (int_pilot_readout_units), the difference in differences
--     (pilot after - pilot before) - (control after - control before),
-- and its readout_interval interval from readout_bootstrap_samples Poisson-bootstrap resamples of
-- the units (each drawn w ~ Poisson(1) times, int_pilot_bootstrap_weights, the same draw for
-- every metric and period of a unit): the difference in differences of each resample's weighted
-- means, its lower and upper quantiles by nearest rank. months_observed: the months after the
-- switch the data holds (the switch month included), for the earliest pilot account.
{%- set level = var('readout_interval') | float %}
{%- set lower = (1 - level) / 2 %}
{%- set upper = 1 - lower %}
with

units as (select * from {{ ref('int_pilot_readout_units') }}),

weights as (select * from {{ ref('int_pilot_bootstrap_weights') }}),

arm_means as (
    select
        pilot_model_id,
        metric,
        arm,
        period,
        avg(metric_value) as mean_value
    from units
    group by pilot_model_id, metric, arm, period
),

observed as (
    select
        pilot_model_id,
        metric,
        max(case when arm = 'pilot' and period = 'before' then mean_value end) as pilot_before,
        max(case when arm = 'pilot' and period = 'after' then mean_value end) as pilot_after,
        max(case when arm = 'control' and period = 'before' then mean_value end)
            as control_before,
        max(case when arm = 'control' and period = 'after' then mean_value end) as control_after
    from arm_means
    group by pilot_model_id, metric
),

arm_sizes as (
    select
        pilot_model_id,
        count(distinct case when arm = 'pilot' then unit_id end) as pilot_units,
        count(distinct case when arm = 'control' then unit_id end) as control_units,
        count(distinct case when arm = 'control' then account_id end) as control_accounts,
        max(case when arm = 'pilot' and period = 'after' then months end) as months_observed
    from units
    group by pilot_model_id
),

resampled_means as (
    select
        units.pilot_model_id,
        units.metric,
        weights.sample_id,
        units.arm,
        units.period,
        sum(weights.weight * units.metric_value) / nullif(sum(weights.weight), 0) as mean_value
    from units
    inner join weights
        on units.pilot_model_id = weights.pilot_model_id
            and units.unit_id = weights.unit_id
    where units.metric_value is not null
    group by units.pilot_model_id, units.metric, weights.sample_id, units.arm, units.period
),

resampled as (
    select
        pilot_model_id,
        metric,
        sample_id,
        (
            max(case when arm = 'pilot' and period = 'after' then mean_value end)
            - max(case when arm = 'pilot' and period = 'before' then mean_value end)
        )
        - (
            max(case when arm = 'control' and period = 'after' then mean_value end)
            - max(case when arm = 'control' and period = 'before' then mean_value end)
        ) as difference_in_differences
    from resampled_means
    group by pilot_model_id, metric, sample_id
),

ranked as (
    select
        pilot_model_id,
        metric,
        round(difference_in_differences, 10) as difference_in_differences,
        row_number() over (
            partition by pilot_model_id, metric
            order by round(difference_in_differences, 10), sample_id
        ) as position,
        count(*) over (partition by pilot_model_id, metric) as samples_drawn
    from resampled
    where difference_in_differences is not null
),

intervals as (
    select
        pilot_model_id,
        metric,
        max(samples_drawn) as bootstrap_samples,
        max(
            case
                when position = greatest(ceiling({{ lower }} * samples_drawn), 1)
                    then difference_in_differences
            end
        ) as interval_low,
        max(
            case
                when position = greatest(ceiling({{ upper }} * samples_drawn), 1)
                    then difference_in_differences
            end
        ) as interval_high
    from ranked
    group by pilot_model_id, metric
),

final as (
    select
        observed.pilot_model_id || '|' || observed.metric as pilot_readout_id,
        observed.pilot_model_id,
        observed.metric,
        cast(arm_sizes.months_observed as integer) as months_observed,
        cast(arm_sizes.pilot_units as {{ dbt.type_bigint() }}) as pilot_accounts,
        cast(arm_sizes.control_units as {{ dbt.type_bigint() }}) as control_units,
        cast(arm_sizes.control_accounts as {{ dbt.type_bigint() }}) as control_accounts,
        round(observed.pilot_before, 10) as pilot_before,
        round(observed.pilot_after, 10) as pilot_after,
        round(observed.control_before, 10) as control_before,
        round(observed.control_after, 10) as control_after,
        round(
            (observed.pilot_after - observed.pilot_before)
            - (observed.control_after - observed.control_before),
            10
        ) as difference_in_differences,
        intervals.interval_low,
        intervals.interval_high,
        cast({{ level }} as double) as interval_level,
        cast(coalesce(intervals.bootstrap_samples, 0) as {{ dbt.type_bigint() }})
            as bootstrap_samples
    from observed
    inner join arm_sizes
        on observed.pilot_model_id = arm_sizes.pilot_model_id
    left join intervals
        on observed.pilot_model_id = intervals.pilot_model_id
            and observed.metric = intervals.metric
)

select * from final
