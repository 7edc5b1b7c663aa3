-- Grain: one row per reconciliation row x seat event behind it (reconciliation_id + event_id).
-- A proration line: its source event, and the correction that voided it if any. A seat line:
-- every ledger event of the subscription effective after the previous period's start up to and
-- including this period's start, voided ones and corrections included (the changes since the
-- previous regular charge); with the seats at the previous period start they add up to the
-- quantity. The first period's seat line: every event up to its start. Platform fee lines,
-- adjustments and lines with no billing period have no seat events.
with

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

period_windows as (
    select
        billing_period_id,
        subscription_id,
        period_start,
        lag(period_start) over (partition by subscription_id order by period_index)
            as previous_period_start
    from periods
),

seat_count_events as (
    select
        reconciled.reconciliation_id,
        ledger.event_id,
        'seat_count_change' as evidence_role
    from reconciled
    inner join period_windows
        on reconciled.billing_period_id = period_windows.billing_period_id
    inner join ledger
        on period_windows.subscription_id = ledger.subscription_id
            and period_windows.period_start >= ledger.effective_at
            and (
                period_windows.previous_period_start is null
                or period_windows.previous_period_start < ledger.effective_at
            )
    where reconciled.line_kind = 'seats'
),

source_events as (
    select
        reconciled.reconciliation_id,
        ledger.event_id,
        'source_event' as evidence_role
    from reconciled
    inner join ledger
        on reconciled.source_event_id = ledger.event_id
),

correcting_events as (
    select
        reconciled.reconciliation_id,
        ledger.voided_by_event_id as event_id,
        'correction_of_source_event' as evidence_role
    from reconciled
    inner join ledger
        on reconciled.source_event_id = ledger.event_id
    where ledger.voided_by_event_id is not null
),

unioned as (
    select * from seat_count_events
    union all
    select * from source_events
    union all
    select * from correcting_events
),

final as (
    select
        unioned.reconciliation_id || '|' || unioned.event_id as line_seat_event_id,
        unioned.reconciliation_id,
        reconciled.line_id,
        reconciled.invoice_id,
        unioned.evidence_role,
        ledger.event_id,
        ledger.subscription_id,
        ledger.ledger_sequence,
        ledger.event_type,
        ledger.quantity,
        ledger.seats_delta,
        ledger.effective_at,
        ledger.recorded_at,
        ledger.is_back_dated,
        ledger.is_voided,
        ledger.voided_by_event_id,
        ledger.corrects_event_id,
        ledger.billable_seats_before,
        ledger.billable_seats_after,
        ledger.user_id,
        ledger.source
    from unioned
    inner join reconciled
        on unioned.reconciliation_id = reconciled.reconciliation_id
    inner join ledger
        on unioned.event_id = ledger.event_id
)

select * from final
