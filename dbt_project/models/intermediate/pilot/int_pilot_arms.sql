-- Grain: one row per pilot model x arm x unit (pilot_model_id, arm, unit_id).
-- Who a pilot is judged against (docs block pilot_control_group). The pilot arm: every account
-- the assignments export moved to a proposal with cohort `pilot`, switched in the month its
-- earliest such assignment starts. The control arm: the export's `control` cohort, each account
-- from the month its own assignment starts, when the export names one; else, for each pilot
-- account, the readout_control_matches accounts of its segment never assigned whose
-- readout_history_months before the switch are closest (int_pilot_control_matches), each with the
-- pilot account's switch month. A unit is an account of the pilot arm, or an account of the
-- control arm (a matched one once per pilot account it is matched to).
with

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

matches as (select * from {{ ref('int_pilot_control_matches') }}),

pilot_accounts as (
    select
        price_model_id as pilot_model_id,
        account_id,
        min(effective_from) as switched_at
    from assignments
    where cohort = 'pilot'
    group by price_model_id, account_id
),

pilot_models as (
    select distinct pilot_model_id
    from pilot_accounts
),

export_controls as (
    select
        account_id,
        min(effective_from) as switched_at
    from assignments
    where cohort = 'control'
    group by account_id
),

pilot_arm as (
    select
        pilot_model_id,
        cast('pilot' as {{ dbt.type_string() }}) as arm,
        account_id as unit_id,
        account_id,
        cast(null as {{ dbt.type_string() }}) as matched_to_account_id,
        cast({{ dbt.date_trunc('month', 'switched_at') }} as date) as switch_month,
        cast('pilot cohort' as {{ dbt.type_string() }}) as source
    from pilot_accounts
),

export_control_arm as (
    select
        pilot_models.pilot_model_id,
        cast('control' as {{ dbt.type_string() }}) as arm,
        export_controls.account_id as unit_id,
        export_controls.account_id,
        cast(null as {{ dbt.type_string() }}) as matched_to_account_id,
        cast({{ dbt.date_trunc('month', 'export_controls.switched_at') }} as date) as switch_month,
        cast('control cohort' as {{ dbt.type_string() }}) as source
    from export_controls
    cross join pilot_models
),

matched_control_arm as (
    select
        matches.pilot_model_id,
        cast('control' as {{ dbt.type_string() }}) as arm,
        matches.pilot_account_id || '|' || matches.control_account_id as unit_id,
        matches.control_account_id as account_id,
        matches.pilot_account_id as matched_to_account_id,
        matches.switch_month,
        cast('matched' as {{ dbt.type_string() }}) as source
    from matches
    -- only where the export names no control group
    where not exists (select 1 from export_controls)
),

final as (
    select * from pilot_arm
    union all
    select * from export_control_arm
    union all
    select * from matched_control_arm
)

select * from final
