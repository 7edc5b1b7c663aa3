-- Grain: one row per invoice (invoice_id). The invoice's own arithmetic (the export contract:
-- subtotal
-- equals the sum of its lines; total = subtotal + tax), reported, never hidden, and how many of
-- its lines disagree with the rules.
with

invoices as (select * from {{ ref('stg_billing__invoices') }}),

invoice_lines as (select * from {{ ref('stg_billing__invoice_lines') }}),

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

line_sums as (
    select
        invoice_id,
        count(*) as line_count,
        sum(amount) as lines_amount
    from invoice_lines
    group by invoice_id
),

reconciliation_counts as (
    select
        invoice_id,
        sum(case when is_match = false then 1 else 0 end) as mismatched_lines,
        sum(case when mismatch_reason = 'missing_proration' then 1 else 0 end)
            as missing_prorations
    from reconciled
    where invoice_id is not null
    group by invoice_id
),

final as (
    select
        invoices.invoice_id,
        invoices.account_id,
        accounts.account_name,
        accounts.segment,
        invoices.subscription_id,
        invoices.status as invoice_status,
        invoices.currency,
        invoices.period_start,
        invoices.period_end,
        invoices.issued_at,
        {{ month_of('invoices.issued_at') }} as invoice_month,
        invoices.subtotal,
        invoices.tax,
        invoices.total,
        cast(coalesce(line_sums.line_count, 0) as {{ dbt.type_bigint() }}) as line_count,
        cast(coalesce(line_sums.lines_amount, 0) as decimal(18, 4)) as lines_amount,
        invoices.subtotal = coalesce(line_sums.lines_amount, 0) as is_subtotal_match,
        invoices.total = invoices.subtotal + invoices.tax as is_total_match,
        cast(coalesce(reconciliation_counts.mismatched_lines, 0) as {{ dbt.type_bigint() }})
            as mismatched_lines,
        cast(coalesce(reconciliation_counts.missing_prorations, 0) as {{ dbt.type_bigint() }})
            as missing_prorations
    from invoices
    left join line_sums
        on invoices.invoice_id = line_sums.invoice_id
    left join reconciliation_counts
        on invoices.invoice_id = reconciliation_counts.invoice_id
    left join accounts
        on invoices.account_id = accounts.account_id
)

select * from final
