-- Grain: one row per invoice line the current (per-seat) billing rules give for a billing period,
-- for every period, whatever model the account is billed under (shadow billing re-rates every
-- account under the current model too; the reconciliation expects these lines only where the
-- current model is in force: int_invoice_lines_expected)
-- (expected_line_key). Per period: the regular seat line (billable seats at the period-start
-- instant x the seat price in effect), the platform fee line when the plan has a fee > 0, and one
-- proration line per seat change of the previous period (int_seat_events_prorated).
with

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

seat_intervals as (select * from {{ ref('int_subscription_seats_intervaled') }}),

prorations as (select * from {{ ref('int_seat_events_prorated') }}),

-- Seats at the period-start instant include the events effective exactly at it (the export
-- contract).
seats_at_start as (
    select
        periods.billing_period_id,
        coalesce(max(seat_intervals.billable_seats), 0) as billable_seats
    from periods
    left join seat_intervals
        on periods.subscription_id = seat_intervals.subscription_id
            and periods.period_start >= seat_intervals.valid_from
            and (seat_intervals.valid_to is null or periods.period_start < seat_intervals.valid_to)
    group by periods.billing_period_id
),

seat_lines as (
    select
        periods.billing_period_id,
        'seats' as line_kind,
        'subscription' as line_type,
        cast(null as {{ dbt.type_string() }}) as source_event_id,
        cast(seats_at_start.billable_seats as decimal(18, 8)) as quantity,
        periods.seat_unit_amount as unit_amount,
        cast(seats_at_start.billable_seats * periods.seat_unit_amount as decimal(18, 4)) as amount,
        periods.period_start as service_start,
        periods.period_end as service_end
    from periods
    inner join seats_at_start
        on periods.billing_period_id = seats_at_start.billing_period_id
),

platform_fee_lines as (
    select
        billing_period_id,
        'platform_fee' as line_kind,
        'subscription' as line_type,
        cast(null as {{ dbt.type_string() }}) as source_event_id,
        cast(1 as decimal(18, 8)) as quantity,
        platform_fee_amount as unit_amount,
        cast(platform_fee_amount as decimal(18, 4)) as amount,
        period_start as service_start,
        period_end as service_end
    from periods
    where platform_fee_amount > 0
),

proration_lines as (
    select
        periods.billing_period_id,
        'proration' as line_kind,
        'proration' as line_type,
        prorations.event_id as source_event_id,
        cast(prorations.seats_delta as decimal(18, 8)) as quantity,
        prorations.unit_amount,
        prorations.amount,
        prorations.effective_at as service_start,
        prorations.period_end as service_end
    from prorations
    inner join periods
        on prorations.subscription_id = periods.subscription_id
            and prorations.invoice_period_start = periods.period_start
),

unioned as (
    select * from seat_lines
    union all
    select * from platform_fee_lines
    union all
    select * from proration_lines
),

final as (
    select
        unioned.billing_period_id
        || '|' || unioned.line_kind
        || coalesce('|' || unioned.source_event_id, '') as expected_line_key,
        unioned.billing_period_id,
        periods.subscription_id,
        periods.account_id,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        unioned.line_kind,
        unioned.line_type,
        unioned.source_event_id,
        unioned.quantity,
        unioned.unit_amount,
        unioned.amount,
        periods.currency,
        unioned.service_start,
        unioned.service_end
    from unioned
    inner join periods
        on unioned.billing_period_id = periods.billing_period_id
)

select * from final
