-- Grain: one row per pilot model x matching feature (pilot_model_id, feature).
-- How alike the two arms were before the switch (docs block pilot_control_group): for each feature
-- the matching weighs (MRR, billable seats, automation share, seat utilization, averaged over the
-- readout_history_months before each unit's switch), the mean of the pilot arm and of the control
-- arm and the standardised mean difference (pilot - control) / sqrt((var pilot + var control) / 2);
-- is_close_match when it is within pilot_match_max_standardised_difference either way. For the
-- export's control cohort and for a matched control group alike.
{%- set history = var('readout_history_months') | int %}
{%- set close = var('pilot_match_max_standardised_difference') %}
with

arms as (select * from {{ ref('int_pilot_arms') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

unit_features as (
    select
        arms.pilot_model_id,
        arms.arm,
        arms.unit_id,
        avg(cast(account_months.mrr_usd as double)) as mrr_usd,
        avg(cast(account_months.billable_seats as double)) as billable_seats,
        avg(cast(account_months.automation_share as double)) as automation_share,
        avg(cast(account_months.seat_utilization as double)) as seat_utilization
    from arms
    inner join account_months
        on arms.account_id = account_months.account_id
            and arms.switch_month > account_months.month
            and {{ dbt.dateadd('month', -history, 'arms.switch_month') }} <= account_months.month
    group by arms.pilot_model_id, arms.arm, arms.unit_id
),

unpivoted as (
    select
        pilot_model_id,
        arm,
        unit_id,
        cast('mrr_usd' as {{ dbt.type_string() }}) as feature,
        mrr_usd as feature_value
    from unit_features
    union all
    select
        pilot_model_id,
        arm,
        unit_id,
        cast('billable_seats' as {{ dbt.type_string() }}) as feature,
        billable_seats as feature_value
    from unit_features
    union all
    select
        pilot_model_id,
        arm,
        unit_id,
        cast('automation_share' as {{ dbt.type_string() }}) as feature,
        automation_share as feature_value
    from unit_features
    union all
    select
        pilot_model_id,
        arm,
        unit_id,
        cast('seat_utilization' as {{ dbt.type_string() }}) as feature,
        seat_utilization as feature_value
    from unit_features
),

by_arm as (
    select
        pilot_model_id,
        feature,
        avg(case when arm = 'pilot' then feature_value end) as pilot_mean,
        avg(case when arm = 'control' then feature_value end) as control_mean,
        var_samp(case when arm = 'pilot' then feature_value end) as pilot_variance,
        var_samp(case when arm = 'control' then feature_value end) as control_variance,
        count(case when arm = 'pilot' then feature_value end) as pilot_units,
        count(case when arm = 'control' then feature_value end) as control_units
    from unpivoted
    group by pilot_model_id, feature
),

differences as (
    select
        pilot_model_id,
        feature,
        pilot_mean,
        control_mean,
        round(
            (pilot_mean - control_mean)
            / nullif(sqrt((coalesce(pilot_variance, 0) + coalesce(control_variance, 0)) / 2), 0),
            10
        ) as standardised_difference,
        pilot_units,
        control_units
    from by_arm
),

final as (
    select
        pilot_model_id || '|' || feature as pilot_match_quality_id,
        pilot_model_id,
        feature,
        round(pilot_mean, 10) as pilot_mean,
        round(control_mean, 10) as control_mean,
        standardised_difference,
        abs(standardised_difference) <= {{ close }} as is_close_match,
        cast(pilot_units as {{ dbt.type_bigint() }}) as pilot_units,
        cast(control_units as {{ dbt.type_bigint() }}) as control_units
    from differences
)

select * from final
