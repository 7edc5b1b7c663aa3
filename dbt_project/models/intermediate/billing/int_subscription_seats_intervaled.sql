-- Grain: one row per subscription per instant at which its billable seats change (or an event
-- takes effect): billable_seats holds from valid_from (inclusive) to valid_to (exclusive; null =
-- still in effect). Seats at instant t: the row with valid_from <= t < coalesce(valid_to, ...);
-- before a subscription's first event it has no row and 0 seats. Events effective exactly at t
-- count at t (exports.md: "effective at or before t").
with

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

by_instant as (
    select
        subscription_id,
        account_id,
        effective_at as valid_from,
        max(ledger_sequence) as last_sequence
    from ledger
    group by subscription_id, account_id, effective_at
),

closing_balance as (
    select
        by_instant.subscription_id,
        by_instant.account_id,
        by_instant.valid_from,
        ledger.billable_seats_after as billable_seats
    from by_instant
    inner join ledger
        on by_instant.subscription_id = ledger.subscription_id
            and by_instant.last_sequence = ledger.ledger_sequence
),

intervaled as (
    select
        subscription_id || '|' || cast(valid_from as {{ dbt.type_string() }})
            as seat_interval_id,
        subscription_id,
        account_id,
        valid_from,
        lead(valid_from) over (partition by subscription_id order by valid_from) as valid_to,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats
    from closing_balance
)

select * from intervaled
