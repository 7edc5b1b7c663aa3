-- Grain: one row per pilot model x rollback trigger (pilot_model_id, trigger_name).
-- When a pilot should be rolled back (docs block rollback_triggers), each a setting, judged on the
-- readout (fct_pilot_readout) after the switch:
--   logo_churn       the pilot's logo churn after the switch above the control's by more than
--                    rollback_churn_excess_points (fraction points);
--   bill_shock_rate  the pilot's bill-shock rate after the switch above
--                    rollback_max_bill_shock_rate;
--   billing_tickets  the pilot's billing tickets per 100 accounts after the switch above the
--                    control's by more than rollback_billing_tickets_increase_pct of them.
-- value is what the trigger measures, threshold its setting; is_crossed when value > threshold
-- (never when the value cannot be measured: no control, no judged month).
with

readout as (select * from {{ ref('fct_pilot_readout') }}),

judged as (
    select
        pilot_model_id,
        cast('logo_churn' as {{ dbt.type_string() }}) as trigger_name,
        pilot_after - control_after as trigger_value,
        cast({{ var('rollback_churn_excess_points') }} as double) as threshold,
        pilot_after,
        control_after,
        months_observed
    from readout
    where metric = 'logo_churn'
    union all
    select
        pilot_model_id,
        'bill_shock_rate' as trigger_name,
        pilot_after as trigger_value,
        cast({{ var('rollback_max_bill_shock_rate') }} as double) as threshold,
        pilot_after,
        control_after,
        months_observed
    from readout
    where metric = 'bill_shock_rate'
    union all
    select
        pilot_model_id,
        'billing_tickets' as trigger_name,
        pilot_after / nullif(control_after, 0) - 1 as trigger_value,
        cast({{ var('rollback_billing_tickets_increase_pct') }} as double) as threshold,
        pilot_after,
        control_after,
        months_observed
    from readout
    where metric = 'billing_tickets_per_100_accounts'
),

final as (
    select
        pilot_model_id || '|' || trigger_name as rollback_trigger_id,
        pilot_model_id,
        trigger_name,
        round(trigger_value, 10) as trigger_value,
        threshold,
        round(pilot_after, 10) as pilot_after,
        round(control_after, 10) as control_after,
        cast(months_observed as integer) as months_observed,
        coalesce(round(trigger_value, 10) > threshold, false) as is_crossed
    from judged
)

select * from final
