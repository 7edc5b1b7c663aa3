-- Grain: one row per rated account-month x price model (account_id, month, price_model_id).
-- The shadow invoice's total beside what the account really paid that month. actual_usd is the
-- subtotal (before tax: tax is not revenue, and no shadow model sets it) of the invoices issued in
-- the month, void and draft ignored, in USD at each issue date's rate; null when a rate is missing.
-- actual_recurring_usd keeps only the subscription lines (seats and platform fees), which the
-- current per-seat model must reproduce; it counts drafts too (a draft is the period's bill about
-- to go out, priced by the same rules), void invoices never.
with

rated_lines as (select * from {{ ref('int_account_months_rated_by_price_model') }}),

accounts as (select * from {{ ref('stg_crm__accounts') }}),

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

invoice_lines as (select * from {{ ref('stg_billing__invoice_lines') }}),

costs as (select * from {{ ref('int_usage_costed_to_account_month') }}),

shadow_totals as (
    select
        account_id,
        month,
        price_model_id,
        sum(amount_usd) as shadow_usd
    from rated_lines
    group by account_id, month, price_model_id
),

recurring_by_invoice as (
    select
        invoice_id,
        sum(amount) as recurring_amount
    from invoice_lines
    where line_type = 'subscription'
    group by invoice_id
),

actual_by_account_month as (
    select
        invoices.account_id,
        invoices.issued_month as month,
        case
            when count(case when invoices.is_billed then invoices.subtotal_usd end)
                = count(case when invoices.is_billed then 1 end)
                then sum(case when invoices.is_billed then invoices.subtotal_usd else 0 end)
        end as actual_usd,
        case
            when count(invoices.usd_per_unit) = count(*)
                then sum(coalesce(recurring_by_invoice.recurring_amount, 0) * invoices.usd_per_unit)
        end as actual_recurring_usd
    from invoices
    left join recurring_by_invoice
        on invoices.invoice_id = recurring_by_invoice.invoice_id
    where invoices.status != 'void'
    group by invoices.account_id, invoices.issued_month
),

joined as (
    select
        shadow_totals.account_id,
        shadow_totals.month,
        accounts.segment,
        shadow_totals.price_model_id,
        cast(
            case
                when actual_by_account_month.account_id is null then 0
                else actual_by_account_month.actual_usd
            end as decimal(18, 4)
        ) as actual_usd,
        cast(
            case
                when actual_by_account_month.account_id is null then 0
                else actual_by_account_month.actual_recurring_usd
            end as decimal(18, 4)
        ) as actual_recurring_usd,
        cast(shadow_totals.shadow_usd as decimal(18, 4)) as shadow_usd,
        cast(costs.cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd
    from shadow_totals
    inner join accounts
        on shadow_totals.account_id = accounts.account_id
    left join actual_by_account_month
        on shadow_totals.account_id = actual_by_account_month.account_id
            and shadow_totals.month = actual_by_account_month.month
    left join costs
        on shadow_totals.account_id = costs.account_id
            and shadow_totals.month = costs.month
)

select * from joined
