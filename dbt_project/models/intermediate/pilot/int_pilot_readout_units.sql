-- Grain: one row per pilot model x arm x unit x period x metric (pilot_model_id, arm, unit_id,
-- period, metric).
-- Each unit of a pilot's arms (int_pilot_arms) measured before and after its switch (docs block
-- pilot_readout): `before` the readout_history_months months before the switch month, `after` the
-- switch month through the last month of data. A metric's value is its aggregate over the unit's
-- account-months of the period (macro pilot_readout_metric_sql); null when it has none to measure
-- (a bill-shock rate without a judged month, a margin without MRR).
{%- set history = var('readout_history_months') | int %}
with

arms as (select * from {{ ref('int_pilot_arms') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

as_of as (
    select max(month) as as_of_month
    from account_months
),

periods as (
    select
        arms.pilot_model_id,
        arms.arm,
        arms.unit_id,
        arms.account_id,
        arms.switch_month,
        cast('before' as {{ dbt.type_string() }}) as period,
        cast({{ dbt.dateadd('month', -history, 'arms.switch_month') }} as date) as period_start,
        cast({{ dbt.dateadd('month', -1, 'arms.switch_month') }} as date) as period_end
    from arms
    union all
    select
        arms.pilot_model_id,
        arms.arm,
        arms.unit_id,
        arms.account_id,
        arms.switch_month,
        cast('after' as {{ dbt.type_string() }}) as period,
        arms.switch_month as period_start,
        as_of.as_of_month as period_end
    from arms
    cross join as_of
),

measured as (
    select
        periods.pilot_model_id,
        periods.arm,
        periods.unit_id,
        periods.account_id,
        periods.switch_month,
        periods.period,
        count(*) as months,
        {{ pilot_readout_metric_sql('measures', 'account_months') }}
    from periods
    inner join account_months
        on periods.account_id = account_months.account_id
            and account_months.month between periods.period_start and periods.period_end
    group by
        periods.pilot_model_id,
        periods.arm,
        periods.unit_id,
        periods.account_id,
        periods.switch_month,
        periods.period
),

unpivoted as (
    {{ pilot_readout_metric_sql(
        'unpivot',
        relation='measured',
        key_columns=[
            'pilot_model_id', 'arm', 'unit_id', 'account_id', 'switch_month', 'period', 'months'
        ]
    ) }}
),

final as (
    select
        pilot_model_id,
        arm,
        unit_id,
        account_id,
        switch_month,
        period,
        cast(months as integer) as months,
        metric,
        metric_value
    from unpivoted
)

select * from final
