-- Grain: one row per subscription per instant at which its billable seats change (or an event
-- takes effect, or the subscription is canceled): billable_seats holds from valid_from (inclusive)
-- to valid_to (exclusive; null = still in effect). Seats at instant t: the row with
-- valid_from <= t < coalesce(valid_to, ...); before a subscription's first event it has no row and
-- 0 seats. Events effective exactly at t count at t (the export contract: "effective at or before
-- t").
-- Billing and access end at canceled_at (the export contract), so from that instant on the
-- subscription has
-- 0 billable seats whatever its seat events say: the cancellation closes the last interval with a
-- row of 0 seats, and an event effective at or after it changes nothing billable.
with

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

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

-- The cancellation instant, unless a seat event takes effect at that very instant (its row is
-- then the cancellation's row: the union below would otherwise hold two rows for one instant).
cancellations as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.canceled_at as valid_from,
        0 as billable_seats
    from subscriptions
    where subscriptions.canceled_at is not null
        and not exists (
            select 1
            from by_instant
            where by_instant.subscription_id = subscriptions.subscription_id
                and by_instant.valid_from = subscriptions.canceled_at
        )
),

instants as (
    select * from closing_balance
    union all
    select * from cancellations
),

canceled as (
    select
        instants.subscription_id,
        instants.account_id,
        instants.valid_from,
        case
            when subscriptions.canceled_at is not null
                and instants.valid_from >= subscriptions.canceled_at
                then 0
            else instants.billable_seats
        end as billable_seats,
        coalesce(instants.valid_from >= subscriptions.canceled_at, false) as is_canceled
    from instants
    left join subscriptions
        on instants.subscription_id = subscriptions.subscription_id
),

intervaled as (
    select
        subscription_id || '|' || cast(valid_from as {{ dbt.type_string() }})
            as seat_interval_id,
        subscription_id,
        account_id,
        valid_from,
        lead(valid_from) over (partition by subscription_id order by valid_from) as valid_to,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        is_canceled
    from canceled
)

select * from intervaled
