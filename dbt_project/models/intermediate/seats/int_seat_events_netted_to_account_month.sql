-- Grain: one row per account per month of the account's month spine.
-- billable_seats is the count at the month's end: every non-voided seat event effective before the
-- first instant of the next month, so an event effective exactly at a month start belongs to
-- that (later) month. Voided events carry seats_delta 0.
with

seat_events as (select * from {{ ref('stg_entitlements__seat_events') }}),

account_months as (select * from {{ ref('int_account_months_spined') }}),

monthly_deltas as (
    select
        account_id,
        {{ month_of('effective_at') }} as month,
        sum(seats_delta) as seats_delta
    from seat_events
    group by account_id, {{ month_of('effective_at') }}
),

-- Events before an account's first month still count, so the running total runs over the union
-- of spine months and event months before the spine is cut back to its own months.
all_months as (
    select
        account_id,
        month
    from account_months
    union
    select
        account_id,
        month
    from monthly_deltas
),

running as (
    select
        all_months.account_id,
        all_months.month,
        coalesce(monthly_deltas.seats_delta, 0) as seats_delta,
        sum(coalesce(monthly_deltas.seats_delta, 0)) over (
            partition by all_months.account_id
            order by all_months.month
            rows between unbounded preceding and current row
        ) as billable_seats
    from all_months
    left join monthly_deltas
        on all_months.account_id = monthly_deltas.account_id
            and all_months.month = monthly_deltas.month
),

netted as (
    select
        account_months.account_id,
        account_months.month,
        cast(running.seats_delta as {{ dbt.type_bigint() }}) as seats_delta,
        cast(running.billable_seats as {{ dbt.type_bigint() }}) as billable_seats
    from account_months
    inner join running
        on account_months.account_id = running.account_id
            and account_months.month = running.month
)

select * from netted
