-- Grain: one row per seat event that changes the billable amount of its current cycle.
with

prorations as (select * from {{ ref('int_seat_events_prorated') }}),

final as (
    select
        event_id,
        subscription_id,
        account_id,
        event_type,
        period_start,
        period_end,
        effective_at,
        recorded_at,
        seats_delta,
        billable_seats_before,
        billable_seats_after,
        proration_rule,
        remaining_units,
        period_units,
        unit_amount,
        amount,
        currency,
        invoice_period_start,
        is_invoice_due
    from prorations
)

select * from final
