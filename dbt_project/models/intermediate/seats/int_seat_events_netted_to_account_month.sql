-- Grain: one row per account per month of the account's month spine.
-- billable_seats is the count at the month's end, summed over the account's subscriptions
-- (int_subscription_seats_netted_to_month_end): every non-voided seat event effective before the
-- first instant of the next month, so an event effective exactly at a month start belongs to that
-- (later) month, and 0 for a subscription canceled by then (billing and access end at
-- canceled_at). seats_delta is the change over the month: seats at its end minus seats at the end
-- of the month before, a cancellation included.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

subscription_seats as (select * from {{ ref('int_subscription_seats_netted_to_month_end') }}),

account_seats as (
    select
        account_id,
        month,
        sum(billable_seats_at_start) as billable_seats_at_start,
        sum(billable_seats) as billable_seats
    from subscription_seats
    group by account_id, month
),

netted as (
    select
        account_months.account_id,
        account_months.month,
        cast(
            coalesce(account_seats.billable_seats, 0)
            - coalesce(account_seats.billable_seats_at_start, 0) as {{ dbt.type_bigint() }}
        ) as seats_delta,
        cast(coalesce(account_seats.billable_seats, 0) as {{ dbt.type_bigint() }})
            as billable_seats
    from account_months
    left join account_seats
        on account_months.account_id = account_seats.account_id
            and account_months.month = account_seats.month
)

select * from netted
