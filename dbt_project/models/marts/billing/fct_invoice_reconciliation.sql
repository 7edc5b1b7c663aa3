-- Grain: one row per exported invoice line (line_id), plus one row per expected line that no
-- invoice carries (line_id null); reconciliation_id is unique across both.
with

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

final as (
    select
        reconciled.reconciliation_id,
        reconciled.line_id,
        reconciled.invoice_id,
        reconciled.invoice_status,
        reconciled.account_id,
        accounts.segment,
        reconciled.subscription_id,
        reconciled.period_start,
        reconciled.issued_at,
        reconciled.invoice_month,
        reconciled.currency,
        reconciled.line_type,
        reconciled.line_kind,
        reconciled.description,
        reconciled.source_event_id,
        reconciled.price_model_id,
        reconciled.component_id,
        reconciled.invoiced_quantity,
        reconciled.expected_quantity,
        reconciled.invoiced_unit_amount,
        reconciled.expected_unit_amount,
        reconciled.expected_amount,
        reconciled.invoiced_amount,
        cast(reconciled.invoiced_amount - reconciled.expected_amount as decimal(18, 4))
            as amount_difference,
        reconciled.reconciliation_status,
        reconciled.is_judged,
        reconciled.is_in_accuracy,
        reconciled.is_match,
        reconciled.mismatch_reason,
        reconciled.mismatch_detail,
        reconciled.expected_line_key
    from reconciled
    left join accounts
        on reconciled.account_id = accounts.account_id
)

select * from final
