-- A shadow invoice's total is the sum of its lines, each rounded half-up to cents; no rounding
-- happens on the total (docs/price-book.md).
with

lines as (
    select
        account_id,
        month,
        price_model_id,
        sum(amount_usd) as lines_usd
    from {{ ref('fct_shadow_invoice_lines') }}
    group by account_id, month, price_model_id
)

select
    invoices.account_id,
    invoices.month,
    invoices.price_model_id,
    invoices.shadow_usd,
    lines.lines_usd
from {{ ref('fct_shadow_invoice') }} as invoices
left join lines
    on invoices.account_id = lines.account_id
        and invoices.month = lines.month
        and invoices.price_model_id = lines.price_model_id
where lines.lines_usd is null or invoices.shadow_usd != lines.lines_usd
