-- Grain: one row per seat event (event_id), voided ones included and marked, in effective-time
-- order per subscription (ledger_sequence). Redeliveries are counted once (staging keeps the
-- first delivery of an event_id).
with

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

final as (
    select
        event_id,
        account_id,
        subscription_id,
        ledger_sequence,
        event_type,
        quantity,
        requested_seats_delta,
        seats_delta,
        effective_at,
        recorded_at,
        recording_lag_seconds,
        is_back_dated,
        is_voided,
        voided_by_event_id,
        voided_at,
        corrects_event_id,
        billable_seats_before,
        billable_seats_after,
        subscription_canceled_at,
        is_after_cancellation,
        seat_role,
        user_id,
        source
    from ledger
)

select * from final
