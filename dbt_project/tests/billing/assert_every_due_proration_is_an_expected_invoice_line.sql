-- A proration whose next period has started must be an expected line of that period's invoice
-- with the same amount; one of the still-running period is pending, not expected yet. Under an
-- assigned model no seat period is invoiced: only the prorations of the seat period ending at the
-- switch are due, on the first invoice under the assigned model (int_billing_periods_in_force).
with

prorations as (select * from {{ ref('fct_proration_lines') }}),

periods as (select * from {{ ref('int_billing_periods_in_force') }}),

due as (
    select prorations.*
    from prorations
    inner join periods
        on prorations.subscription_id = periods.subscription_id
            and prorations.invoice_period_start = periods.period_start
            and (periods.period_kind = 'seat_period' or periods.starts_at_switch)
    where prorations.is_invoice_due
),

expected as (select * from {{ ref('int_invoice_lines_expected') }}),

unmatched as (
    select prorations.event_id
    from due as prorations
    left join expected
        on
            prorations.event_id = expected.source_event_id
            and expected.line_kind = 'proration'
            and prorations.amount = expected.amount
    where expected.expected_line_key is null
)

select * from unmatched
