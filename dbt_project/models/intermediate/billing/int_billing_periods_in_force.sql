-- Grain: one row per period an invoice is expected for (billing_period_id), under the model in
-- force (docs block billed_under_assigned_model):
-- * `seat_period`: a billing period of int_subscription_periods_spined that starts while the
--   current model is in force: not at or after an assignment's effective_from to another model
--   (until its effective_to). A seat period a switch falls inside was invoiced in advance, in full.
-- * `assigned_month`: the part of a calendar month an assignment to another model covers, for
--   the account's subscription in force during that part (the latest started, if several), once
--   that part has ended by the data's as-of time (it is invoiced in arrears, at its end).
--   `starts_at_switch`: the part starts at the assignment's effective_from, so its invoice also
--   carries the prorations of the seat period that ends there.
with

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

account_months as (select * from {{ ref('int_account_months_spined') }}),

export_timestamps as (select * from {{ ref('int_export_timestamps_aggregated') }}),

-- dim_price_models.is_current_model
assigned_elsewhere as (
    select
        account_id,
        price_model_id,
        effective_from,
        effective_to
    from assignments
    where price_model_id <> {{ current_price_model_id() }}
),

seat_periods_judged as (
    select
        periods.billing_period_id,
        periods.subscription_id,
        periods.account_id,
        periods.period_start,
        periods.period_end,
        periods.currency,
        max(case when assigned_elsewhere.account_id is not null then 1 else 0 end)
            as is_under_assignment
    from periods
    left join assigned_elsewhere
        on periods.account_id = assigned_elsewhere.account_id
            and periods.period_start >= assigned_elsewhere.effective_from
            and (
                assigned_elsewhere.effective_to is null
                or periods.period_start < assigned_elsewhere.effective_to
            )
    group by
        periods.billing_period_id,
        periods.subscription_id,
        periods.account_id,
        periods.period_start,
        periods.period_end,
        periods.currency
),

seat_periods as (
    select
        billing_period_id,
        subscription_id,
        account_id,
        {{ current_price_model_id() }} as price_model_id,
        'seat_period' as period_kind,
        cast(null as date) as month,
        period_start,
        period_end,
        currency,
        cast(null as {{ dbt.type_bigint() }}) as seconds_in_force,
        cast(null as {{ dbt.type_bigint() }}) as seconds_in_month,
        false as starts_at_switch
    from seat_periods_judged
    where is_under_assignment = 0
),

month_bounds as (
    {{ month_bounds_of('account_months') }}
),

assigned_parts as (
    {{ assignment_month_parts(
        'month_bounds', 'assigned_elsewhere', ['price_model_id', 'effective_from']
    ) }}
),

assigned_parts_billed as (
    select
        assigned_parts.*,
        subscriptions.subscription_id,
        row_number() over (
            partition by assigned_parts.account_id, assigned_parts.part_start_at
            order by subscriptions.started_at desc, subscriptions.subscription_id desc
        ) as subscription_rank
    from assigned_parts
    inner join subscriptions
        on assigned_parts.account_id = subscriptions.account_id
            and assigned_parts.part_end_at > subscriptions.started_at
            and (
                subscriptions.canceled_at is null
                or assigned_parts.part_start_at < subscriptions.canceled_at
            )
    cross join export_timestamps
    where assigned_parts.part_end_at <= export_timestamps.data_as_of
),

assigned_months as (
    select
        subscription_id
        || '|' || price_model_id
        || '|' || cast(month as {{ dbt.type_string() }}) as billing_period_id,
        subscription_id,
        account_id,
        price_model_id,
        'assigned_month' as period_kind,
        month,
        part_start_at as period_start,
        part_end_at as period_end,
        -- the price book's currency
        'USD' as currency,
        cast(
            {{ dbt.datediff('part_start_at', 'part_end_at', 'second') }} as {{ dbt.type_bigint() }}
        ) as seconds_in_force,
        cast(
            {{ dbt.datediff('month_start_at', 'month_end_at', 'second') }}
            as {{ dbt.type_bigint() }}
        ) as seconds_in_month,
        part_start_at = effective_from as starts_at_switch
    from assigned_parts_billed
    where subscription_rank = 1
),

unioned as (
    select * from seat_periods
    union all
    select * from assigned_months
)

select * from unioned
