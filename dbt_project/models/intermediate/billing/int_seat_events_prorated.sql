-- Grain: one row per seat event that changes the billable amount of its current cycle.
-- That is a non-voided event with a non-zero seat change effective strictly inside a billing
-- period: a change exactly at a period start belongs to that period's regular charge; voided
-- events, reassignments and corrections change nothing, and neither does a change effective at or
-- after the subscription's canceled_at (the export contract: billing ends there; the canceled
-- subscription's last period still runs to its end, so the period join alone lets one through).
-- The amount follows the published rule (var proration_rule, macro proration_amount) at the seat
-- price in effect for the period, and is invoiced on the next period's invoice
-- (invoice_period_start), annual plans included.
with

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

changes as (
    select *
    from ledger
    where not is_voided
        and seats_delta <> 0
        and (subscription_canceled_at is null or effective_at < subscription_canceled_at)
),

in_period as (
    select
        changes.event_id,
        changes.subscription_id,
        changes.account_id,
        changes.event_type,
        changes.effective_at,
        changes.recorded_at,
        changes.seats_delta,
        changes.billable_seats_before,
        changes.billable_seats_after,
        periods.billing_period_id,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.has_next_period,
        periods.seat_unit_amount as unit_amount,
        periods.currency
    from changes
    inner join periods
        on changes.subscription_id = periods.subscription_id
            and changes.effective_at > periods.period_start
            and changes.effective_at < periods.period_end
),

prorated as (
    select
        event_id,
        subscription_id,
        account_id,
        event_type,
        effective_at,
        recorded_at,
        seats_delta,
        billable_seats_before,
        billable_seats_after,
        billing_period_id,
        period_index,
        period_start,
        period_end,
        cast(
            {{ proration_remaining_units('effective_at', 'period_end') }}
            as {{ dbt.type_bigint() }}
        ) as remaining_units,
        cast(
            {{ proration_period_units('period_start', 'period_end') }}
            as {{ dbt.type_bigint() }}
        ) as period_units,
        '{{ proration_rule() }}' as proration_rule,
        unit_amount,
        {{ proration_amount('seats_delta', 'unit_amount', 'effective_at', 'period_start',
            'period_end') }} as amount,
        currency,
        period_end as invoice_period_start,
        has_next_period as is_invoice_due
    from in_period
)

select * from prorated
