-- The open interval of every subscription holds the balance after its last ledger event: the
-- interval view and the ledger never disagree on today's billable seats. Exception: a canceled
-- subscription's open interval holds 0 (billing ends at canceled_at; the ledger records seat
-- events only, and a cancellation is not one).
with

ledger as (select * from {{ ref('fct_seat_ledger') }}),

intervals as (select * from {{ ref('int_subscription_seats_intervaled') }}),

last_events as (
    select
        subscription_id,
        max(ledger_sequence) as last_sequence
    from ledger
    group by subscription_id
),

balances as (
    select
        ledger.subscription_id,
        ledger.billable_seats_after
    from ledger
    inner join last_events
        on
            ledger.subscription_id = last_events.subscription_id
            and ledger.ledger_sequence = last_events.last_sequence
),

disagreements as (
    select balances.subscription_id
    from balances
    left join intervals
        on
            balances.subscription_id = intervals.subscription_id
            and intervals.valid_to is null
    where intervals.billable_seats is null
        or intervals.billable_seats
        <> case when intervals.is_canceled then 0 else balances.billable_seats_after end
)

select * from disagreements
