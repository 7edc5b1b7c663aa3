-- Grain: one row per account x month x price model in force in that month (account_id, month,
-- price_model_id), over every month of int_account_months_spined. The month is split to the
-- second at its UTC bounds: each model's share is the time it was in force over the month's
-- length, and the shares of an account-month add up to 1. Time no assignment covers is under the
-- current model. The rules are the docs block price_model_in_force.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

month_bounds as (
    {{ month_bounds_of('account_months') }}
),

months_measured as (
    select
        account_id,
        month,
        month_start_at,
        month_end_at,
        {{ dbt.datediff('month_start_at', 'month_end_at', 'second') }} as seconds_in_month
    from month_bounds
),

-- The part of each month an assignment covers: from the later of its start and the month's
-- start to the earlier of its end (none: still running) and the month's end.
assigned_parts as (
    {{ assignment_month_parts('months_measured', 'assignments', ['price_model_id', 'cohort']) }}
),

assigned_parts_measured as (
    select
        account_id,
        month,
        price_model_id,
        cohort,
        {{ dbt.datediff('part_start_at', 'part_end_at', 'second') }} as seconds_in_force,
        case when part_end_at = month_end_at then 1 else 0 end as is_in_force_at_month_end,
        1 as is_assigned
    from assigned_parts
),

assigned_totals as (
    select
        account_id,
        month,
        sum(seconds_in_force) as assigned_seconds,
        max(is_in_force_at_month_end) as is_assigned_at_month_end
    from assigned_parts_measured
    group by account_id, month
),

-- What no assignment covers stays under the current model (dim_price_models.is_current_model).
unassigned_parts as (
    select
        months_measured.account_id,
        months_measured.month,
        {{ current_price_model_id() }} as price_model_id,
        cast(null as {{ dbt.type_string() }}) as cohort,
        months_measured.seconds_in_month
        - coalesce(assigned_totals.assigned_seconds, 0) as seconds_in_force,
        1 - coalesce(assigned_totals.is_assigned_at_month_end, 0) as is_in_force_at_month_end,
        0 as is_assigned
    from months_measured
    left join assigned_totals
        on months_measured.account_id = assigned_totals.account_id
            and months_measured.month = assigned_totals.month
    where months_measured.seconds_in_month - coalesce(assigned_totals.assigned_seconds, 0) > 0
),

parts as (
    select * from assigned_parts_measured
    union all
    select * from unassigned_parts
),

-- One row per model of the month: a control cohort's current model and the unassigned rest of
-- the month are one row, as are two assignments of the same model that meet inside it.
by_model as (
    select
        account_id,
        month,
        price_model_id,
        max(cohort) as cohort,
        sum(seconds_in_force) as seconds_in_force,
        max(is_in_force_at_month_end) as is_in_force_at_month_end,
        max(is_assigned) as is_assigned
    from parts
    group by account_id, month, price_model_id
),

final as (
    select
        by_model.account_id
        || '|' || cast(by_model.month as {{ dbt.type_string() }})
        || '|' || by_model.price_model_id as account_month_price_model_id,
        by_model.account_id,
        by_model.month,
        by_model.price_model_id,
        by_model.cohort,
        by_model.is_assigned = 1 as is_assigned,
        cast(by_model.seconds_in_force as {{ dbt.type_bigint() }}) as seconds_in_force,
        cast(months_measured.seconds_in_month as {{ dbt.type_bigint() }}) as seconds_in_month,
        cast(by_model.seconds_in_force as double)
        / months_measured.seconds_in_month as month_fraction,
        by_model.is_in_force_at_month_end = 1 as is_month_model,
        -- the month is billed under an assigned model, not the current one (is_current_model)
        by_model.is_in_force_at_month_end = 1
        and by_model.is_assigned = 1
        and by_model.price_model_id <> {{ current_price_model_id() }} as is_billed_under_assignment,
        count(*) over (
            partition by by_model.account_id, by_model.month
        ) > 1 as is_switch_month
    from by_model
    inner join months_measured
        on by_model.account_id = months_measured.account_id
            and by_model.month = months_measured.month
)

select * from final
