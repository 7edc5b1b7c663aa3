-- Grain: one row per pilot model x arm x months from the switch x metric (pilot_model_id, arm,
-- months_from_switch, metric).
-- The pilot's months against the control's (docs block pilot_readout): each unit's account-month
-- from readout_history_months before its switch month (months_from_switch -history .. -1) through
-- the last month of data (0 is the switch month), each readout metric measured on that month alone
-- (macro pilot_readout_metric_sql: logo churn 1 in the month the account churned), averaged over
-- the arm's units that have the month.
{%- set history = var('readout_history_months') | int %}
with

arms as (select * from {{ ref('int_pilot_arms') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

unit_months as (
    select
        arms.pilot_model_id,
        arms.arm,
        arms.unit_id,
        {{ dbt.datediff('arms.switch_month', 'account_months.month', 'month') }}
            as months_from_switch,
        {{ pilot_readout_metric_sql('measures', 'account_months') }}
    from arms
    inner join account_months
        on arms.account_id = account_months.account_id
            and {{ dbt.dateadd('month', -history, 'arms.switch_month') }} <= account_months.month
    group by
        arms.pilot_model_id,
        arms.arm,
        arms.unit_id,
        {{ dbt.datediff('arms.switch_month', 'account_months.month', 'month') }}
),

unpivoted as (
    {{ pilot_readout_metric_sql(
        'unpivot',
        relation='unit_months',
        key_columns=['pilot_model_id', 'arm', 'unit_id', 'months_from_switch']
    ) }}
),

final as (
    select
        pilot_model_id || '|' || arm || '|' || cast(months_from_switch as {{ dbt.type_string() }})
        || '|' || metric as pilot_readout_month_id,
        pilot_model_id,
        arm,
        cast(months_from_switch as integer) as months_from_switch,
        metric,
        round(avg(metric_value), 10) as mean_value,
        cast(count(metric_value) as {{ dbt.type_bigint() }}) as units
    from unpivoted
    group by pilot_model_id, arm, months_from_switch, metric
)

select * from final
