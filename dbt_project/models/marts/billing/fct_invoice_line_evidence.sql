-- Grain: one row per reconciliation row (reconciliation_id; line_id is unique where not null).
-- The evidence packet of an invoice line in one lookup: the invoice, the billed entity and
-- currency, the source event with its ledger state and correction trail, the seat counts behind a
-- seat line, and the verdict. The individual events are in fct_invoice_line_seat_events.
with

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

periods_in_force as (select * from {{ ref('int_billing_periods_in_force') }}),

seat_intervals as (select * from {{ ref('int_subscription_seats_intervaled') }}),

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

line_events as (select * from {{ ref('fct_invoice_line_seat_events') }}),

period_windows as (
    select
        billing_period_id,
        subscription_id,
        plan_id,
        plan_name,
        period_start,
        period_end,
        lag(period_start) over (partition by subscription_id order by period_index)
            as previous_period_start
    from periods
),

seats_at_previous_start as (
    select
        period_windows.billing_period_id,
        coalesce(max(seat_intervals.billable_seats), 0) as billable_seats
    from period_windows
    left join seat_intervals
        on period_windows.subscription_id = seat_intervals.subscription_id
            and period_windows.previous_period_start >= seat_intervals.valid_from
            and (
                seat_intervals.valid_to is null
                or period_windows.previous_period_start < seat_intervals.valid_to
            )
    where period_windows.previous_period_start is not null
    group by period_windows.billing_period_id
),

event_summaries as (
    select
        reconciliation_id,
        count(*) as seat_event_count,
        {{ dbt.listagg(
            "case when is_voided then event_id || ' voided by ' || voided_by_event_id end",
            "'; '",
            "order by ledger_sequence") }} as correction_trail
    from line_events
    group by reconciliation_id
),

final as (
    select
        reconciled.reconciliation_id,
        reconciled.line_id,
        reconciled.invoice_id,
        reconciled.invoice_status,
        reconciled.issued_at,
        reconciled.account_id,
        accounts.account_name,
        accounts.country,
        accounts.segment,
        reconciled.currency,
        reconciled.subscription_id,
        period_windows.plan_id,
        period_windows.plan_name,
        -- a month under an assigned model is no seat period: its own bounds
        coalesce(period_windows.period_start, periods_in_force.period_start) as period_start,
        coalesce(period_windows.period_end, periods_in_force.period_end) as period_end,
        period_windows.previous_period_start,
        reconciled.line_type,
        reconciled.line_kind,
        reconciled.price_model_id,
        reconciled.component_id,
        reconciled.description,
        reconciled.source_event_id,
        ledger.event_type as source_event_type,
        ledger.effective_at as source_event_effective_at,
        ledger.recorded_at as source_event_recorded_at,
        ledger.seats_delta as source_event_seats_delta,
        ledger.billable_seats_before as seats_before_source_event,
        ledger.billable_seats_after as seats_after_source_event,
        ledger.is_voided as source_event_is_voided,
        ledger.voided_by_event_id as source_event_voided_by_event_id,
        cast(seats_at_previous_start.billable_seats as {{ dbt.type_bigint() }})
            as billable_seats_at_previous_period_start,
        cast(coalesce(event_summaries.seat_event_count, 0) as {{ dbt.type_bigint() }})
            as seat_event_count,
        event_summaries.correction_trail,
        reconciled.invoiced_quantity,
        reconciled.expected_quantity,
        reconciled.invoiced_unit_amount,
        reconciled.expected_unit_amount,
        reconciled.invoiced_amount,
        reconciled.expected_amount,
        reconciled.reconciliation_status,
        reconciled.is_match,
        reconciled.mismatch_reason,
        reconciled.mismatch_detail
    from reconciled
    left join period_windows
        on reconciled.billing_period_id = period_windows.billing_period_id
    left join periods_in_force
        on reconciled.billing_period_id = periods_in_force.billing_period_id
    left join seats_at_previous_start
        on reconciled.billing_period_id = seats_at_previous_start.billing_period_id
    left join ledger
        on reconciled.source_event_id = ledger.event_id
    left join accounts
        on reconciled.account_id = accounts.account_id
    left join event_summaries
        on reconciled.reconciliation_id = event_summaries.reconciliation_id
)

select * from final
