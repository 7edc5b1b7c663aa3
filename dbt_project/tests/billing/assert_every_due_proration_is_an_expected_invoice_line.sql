-- A proration whose next period has started must be an expected line of that period's invoice
-- with the same amount; one of the still-running period is pending, not expected yet.
with

prorations as (select * from {{ ref('fct_proration_lines') }}),

expected as (select * from {{ ref('int_invoice_lines_expected') }}),

unmatched as (
    select prorations.event_id
    from prorations
    left join expected
        on
            prorations.event_id = expected.source_event_id
            and expected.line_kind = 'proration'
            and prorations.amount = expected.amount
    where prorations.is_invoice_due and expected.expected_line_key is null
)

select * from unmatched
