-- Grain: one row per seat event (event_id), voided ones and corrections included.
-- The ledger in effective-time order per subscription: a back-dated event lands where it takes
-- effect, not where it was recorded. Events at the same instant are ordered by recorded_at then
-- event_id so the running balance never depends on scan order.
-- A correction voids the event it names (corrects_event_id); should two corrections name the same
-- event, the first recorded one is the voiding event (the loader rejects corrections of
-- corrections). requested_seats_delta is quantity x the sign of the event type (the contract's
-- signs, as data: reassignments change the holder, never the count, and corrections act only
-- through the voiding); seats_delta is that, or 0 for a voided event, so voided events never
-- count. The running balance is the ledger's, of seat events only: a cancellation is not a seat
-- event, so it does not bring billable_seats_after to 0 (int_subscription_seats_intervaled does
-- that for billing).
with

seat_events as (select * from {{ ref('stg_entitlements__seat_events') }}),

seat_event_signs as (select * from {{ ref('stg_entitlements__seat_event_signs') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

corrections_ranked as (
    select
        corrects_event_id,
        event_id as voided_by_event_id,
        recorded_at as voided_at,
        row_number() over (
            partition by corrects_event_id
            order by recorded_at, event_id
        ) as correction_rank
    from seat_events
    where event_type = 'correction'
        and corrects_event_id is not null
),

voiding_corrections as (
    select
        corrects_event_id,
        voided_by_event_id,
        voided_at
    from corrections_ranked
    where correction_rank = 1
),

signed as (
    select
        seat_events.*,
        voiding_corrections.voided_by_event_id,
        voiding_corrections.voided_at,
        voiding_corrections.voided_by_event_id is not null as is_voided,
        coalesce(seat_event_signs.seat_sign, 0) * seat_events.quantity as requested_seats_delta,
        case
            when voiding_corrections.voided_by_event_id is not null then 0
            else coalesce(seat_event_signs.seat_sign, 0) * seat_events.quantity
        end as seats_delta
    from seat_events
    left join voiding_corrections
        on seat_events.event_id = voiding_corrections.corrects_event_id
    left join seat_event_signs
        on seat_events.event_type = seat_event_signs.event_type
),

sequenced as (
    select
        signed.event_id,
        signed.account_id,
        signed.subscription_id,
        signed.event_type,
        signed.quantity,
        signed.seat_role,
        signed.user_id,
        signed.source,
        signed.effective_at,
        signed.recorded_at,
        signed.corrects_event_id,
        signed.is_voided,
        signed.voided_by_event_id,
        signed.voided_at,
        subscriptions.canceled_at as subscription_canceled_at,
        signed.requested_seats_delta,
        signed.seats_delta,
        {{ dbt.datediff('signed.effective_at', 'signed.recorded_at', 'second') }}
            as recording_lag_seconds,
        row_number() over (
            partition by signed.subscription_id
            order by signed.effective_at, signed.recorded_at, signed.event_id
        ) as ledger_sequence,
        sum(signed.seats_delta) over (
            partition by signed.subscription_id
            order by signed.effective_at, signed.recorded_at, signed.event_id
            rows between unbounded preceding and current row
        ) as billable_seats_after
    from signed
    left join subscriptions
        on signed.subscription_id = subscriptions.subscription_id
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
