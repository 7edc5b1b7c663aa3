-- Grain: one row per seat event (event_id), voided ones and corrections included.
-- The ledger in effective-time order per subscription: a back-dated event lands where it takes
-- effect, not where it was recorded. Events at the same instant are ordered by recorded_at then
-- event_id so the running balance never depends on scan order. Voided events carry seats_delta 0
-- (staging), so they never count; requested_seats_delta keeps what they asked for. The running
-- balance is the ledger's, of seat events only: a cancellation is not a seat event, so it does not
-- bring billable_seats_after to 0 (int_subscription_seats_intervaled does that for billing).
with

seat_events as (select * from {{ ref('stg_entitlements__seat_events') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

corrections as (
    select
        event_id as correction_event_id,
        effective_at as correction_effective_at,
        recorded_at as correction_recorded_at
    from seat_events
    where event_type = 'correction'
),

sequenced as (
    select
        seat_events.event_id,
        seat_events.account_id,
        seat_events.subscription_id,
        seat_events.event_type,
        seat_events.quantity,
        seat_events.seat_role,
        seat_events.user_id,
        seat_events.source,
        seat_events.effective_at,
        seat_events.recorded_at,
        seat_events.corrects_event_id,
        seat_events.is_voided,
        seat_events.voided_by_event_id,
        corrections.correction_recorded_at as voided_at,
        subscriptions.canceled_at as subscription_canceled_at,
        seat_events.requested_seats_delta,
        seat_events.seats_delta,
        {{ dbt.datediff('seat_events.effective_at', 'seat_events.recorded_at', 'second') }}
            as recording_lag_seconds,
        row_number() over (
            partition by seat_events.subscription_id
            order by seat_events.effective_at, seat_events.recorded_at, seat_events.event_id
        ) as ledger_sequence,
        sum(seat_events.seats_delta) over (
            partition by seat_events.subscription_id
            order by seat_events.effective_at, seat_events.recorded_at, seat_events.event_id
            rows between unbounded preceding and current row
        ) as billable_seats_after
    from seat_events
    left join corrections
        on seat_events.voided_by_event_id = corrections.correction_event_id
    left join subscriptions
        on seat_events.subscription_id = subscriptions.subscription_id
),

final as (
    select
        event_id,
        account_id,
        subscription_id,
        event_type,
        quantity,
        seat_role,
        user_id,
        source,
        effective_at,
        recorded_at,
        corrects_event_id,
        is_voided,
        voided_by_event_id,
        voided_at,
        subscription_canceled_at,
        -- billing ends at canceled_at: a seat change effective from then on bills nothing
        coalesce(effective_at >= subscription_canceled_at, false) as is_after_cancellation,
        cast(requested_seats_delta as {{ dbt.type_bigint() }}) as requested_seats_delta,
        cast(seats_delta as {{ dbt.type_bigint() }}) as seats_delta,
        cast(recording_lag_seconds as {{ dbt.type_bigint() }}) as recording_lag_seconds,
        recording_lag_seconds > {{ var('back_dated_after_seconds') }} as is_back_dated,
        cast(ledger_sequence as {{ dbt.type_bigint() }}) as ledger_sequence,
        cast(billable_seats_after - seats_delta as {{ dbt.type_bigint() }})
            as billable_seats_before,
        cast(billable_seats_after as {{ dbt.type_bigint() }}) as billable_seats_after
    from sequenced
)

select * from final
