-- Grain: one row per subscription per month of its account's month spine.
-- Billable seats of the subscription at the month's end and at its start (the previous month's
-- end), read from the seat intervals: the interval in effect just before the first instant of the
-- next month (valid_from < that instant <= valid_to), so an event effective exactly at a month
-- start belongs to that (later) month. A canceled subscription has 0 seats from canceled_at on
-- (the intervals close there), so every month ending at or after canceled_at counts 0; one
-- canceled exactly at the next month's first instant still counts at this month's end, as MRR does.
-- Before the subscription's first event: 0. This is the one place seats at a month end are read
-- from the ledger; MRR and fct_account_month both use it.
with

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

account_months as (select * from {{ ref('int_account_months_spined') }}),

seat_intervals as (select * from {{ ref('int_subscription_seats_intervaled') }}),

subscription_months as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        account_months.month,
        cast(account_months.month as {{ dbt.type_timestamp() }}) as month_start,
        cast({{ dbt.dateadd('month', 1, 'account_months.month') }} as {{ dbt.type_timestamp() }})
            as next_month_start
    from subscriptions
    inner join account_months
        on subscriptions.account_id = account_months.account_id
),

-- The two instants read per subscription-month: this month's first instant (its start, the
-- previous month's end) and the next month's first instant (its end).
month_bounds as (
    select
        subscription_id,
        month,
        'start' as bound,
        month_start as bound_at
    from subscription_months
    union all
    select
        subscription_id,
        month,
        'end' as bound,
        next_month_start as bound_at
    from subscription_months
),

-- Seats just before a bound: the interval that started before that instant and had not ended
-- before it (valid_to is exclusive, so one ending exactly there still holds).
seats_at_bounds as (
    select
        month_bounds.subscription_id,
        month_bounds.month,
        max(case when month_bounds.bound = 'start' then seat_intervals.billable_seats end)
            as billable_seats_at_start,
        max(case when month_bounds.bound = 'end' then seat_intervals.billable_seats end)
            as billable_seats_at_end
    from month_bounds
    inner join seat_intervals
        on month_bounds.subscription_id = seat_intervals.subscription_id
            and month_bounds.bound_at > seat_intervals.valid_from
            and (
                seat_intervals.valid_to is null
                or month_bounds.bound_at <= seat_intervals.valid_to
            )
    group by month_bounds.subscription_id, month_bounds.month
),

final as (
    select
        subscription_months.subscription_id,
        subscription_months.account_id,
        subscription_months.month,
        cast(coalesce(seats_at_bounds.billable_seats_at_start, 0) as {{ dbt.type_bigint() }})
            as billable_seats_at_start,
        cast(coalesce(seats_at_bounds.billable_seats_at_end, 0) as {{ dbt.type_bigint() }})
            as billable_seats
    from subscription_months
    left join seats_at_bounds
        on subscription_months.subscription_id = seats_at_bounds.subscription_id
            and subscription_months.month = seats_at_bounds.month
)

select * from final
