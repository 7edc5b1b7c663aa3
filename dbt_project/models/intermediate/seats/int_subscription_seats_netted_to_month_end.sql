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

-- Seats just before the next month's first instant: the interval that started before that instant
-- and had not ended before it (valid_to is exclusive, so one ending exactly there still holds).
at_month_end as (
    select
        subscription_months.subscription_id,
        subscription_months.month,
        max(seat_intervals.billable_seats) as billable_seats
    from subscription_months
    inner join seat_intervals
        on subscription_months.subscription_id = seat_intervals.subscription_id
            and subscription_months.next_month_start > seat_intervals.valid_from
            and (
                seat_intervals.valid_to is null
                or subscription_months.next_month_start <= seat_intervals.valid_to
            )
    group by subscription_months.subscription_id, subscription_months.month
),

-- The same just before this month's first instant: the previous month's end.
at_month_start as (
    select
        subscription_months.subscription_id,
        subscription_months.month,
        max(seat_intervals.billable_seats) as billable_seats
    from subscription_months
    inner join seat_intervals
        on subscription_months.subscription_id = seat_intervals.subscription_id
            and subscription_months.month_start > seat_intervals.valid_from
            and (
                seat_intervals.valid_to is null
                or subscription_months.month_start <= seat_intervals.valid_to
            )
    group by subscription_months.subscription_id, subscription_months.month
),

final as (
    select
        subscription_months.subscription_id,
        subscription_months.account_id,
        subscription_months.month,
        cast(coalesce(at_month_start.billable_seats, 0) as {{ dbt.type_bigint() }})
            as billable_seats_at_start,
        cast(coalesce(at_month_end.billable_seats, 0) as {{ dbt.type_bigint() }})
            as billable_seats
    from subscription_months
    left join at_month_end
        on subscription_months.subscription_id = at_month_end.subscription_id
            and subscription_months.month = at_month_end.month
    left join at_month_start
        on subscription_months.subscription_id = at_month_start.subscription_id
            and subscription_months.month = at_month_start.month
)

select * from final
