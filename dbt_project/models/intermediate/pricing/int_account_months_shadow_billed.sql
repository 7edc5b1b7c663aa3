-- Grain: one row per rated account-month x price model (account_id, month, price_model_id).
-- The shadow invoice's total beside what the account really paid that month, like with like.
-- actual_usd is what any price model stands in for: the subscription, proration and usage lines
-- of the invoices issued in the month (void and draft ignored), before tax (tax is not revenue and
-- no model sets it) and before discounts and credits (a manual concession outside any model, which
-- the vendor could grant under any of them), in USD at each invoice's issue-date rate; null when a
-- rate is missing. actual_adjustments_usd holds those discounts and credits, actual_subtotal_usd
-- the whole subtotal (before tax), so nothing invoiced is out of sight. actual_recurring_usd keeps
-- only the subscription lines (seats and platform fees) and counts drafts too (a draft is the
-- period's bill about to go out, priced by the same rules), void invoices never.
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
        sum(amount_usd) as shadow_usd,
        sum(uncapped_amount_usd) as shadow_uncapped_usd,
        max(case when is_over_cap then 1 else 0 end) = 1 as is_over_cap
    from rated_lines
    group by account_id, month, price_model_id
),

-- Per invoice, its lines by kind, in the invoice's currency.
lines_by_invoice as (
    select
        invoice_id,
        sum(
            case when line_type in ('subscription', 'proration', 'usage') then amount else 0 end
        ) as charged_amount,
        sum(case when line_type in ('discount', 'credit') then amount else 0 end)
            as adjustments_amount,
        sum(case when line_type = 'subscription' then amount else 0 end) as recurring_amount
    from invoice_lines
    group by invoice_id
),

invoice_amounts as (
    select
        invoices.account_id,
        invoices.issued_month as month,
        invoices.is_billed,
        invoices.usd_per_unit,
        invoices.subtotal_usd,
        coalesce(lines_by_invoice.charged_amount, 0) * invoices.usd_per_unit as charged_usd,
        coalesce(lines_by_invoice.adjustments_amount, 0) * invoices.usd_per_unit
            as adjustments_usd,
        coalesce(lines_by_invoice.recurring_amount, 0) * invoices.usd_per_unit as recurring_usd
    from invoices
    left join lines_by_invoice
        on invoices.invoice_id = lines_by_invoice.invoice_id
    where invoices.status != 'void'
),

-- A month with a billed invoice lacking its rate has unknown amounts, not smaller ones.
actual_by_account_month as (
    select
        account_id,
        month,
        case
            when count(case when is_billed then usd_per_unit end)
                = count(case when is_billed then 1 end)
                then sum(case when is_billed then charged_usd else 0 end)
        end as actual_usd,
        case
            when count(case when is_billed then usd_per_unit end)
                = count(case when is_billed then 1 end)
                then sum(case when is_billed then adjustments_usd else 0 end)
        end as actual_adjustments_usd,
        case
            when count(case when is_billed then subtotal_usd end)
                = count(case when is_billed then 1 end)
                then sum(case when is_billed then subtotal_usd else 0 end)
        end as actual_subtotal_usd,
        -- drafts count here (the period's bill about to go out), void invoices never
        case when count(usd_per_unit) = count(*) then sum(recurring_usd) end
            as actual_recurring_usd
    from invoice_amounts
    group by account_id, month
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
        {%- for column in [
            'actual_adjustments_usd', 'actual_subtotal_usd', 'actual_recurring_usd'
        ] %}
        cast(
            case
                when actual_by_account_month.account_id is null then 0
                else actual_by_account_month.{{ column }}
            end as decimal(18, 4)
        ) as {{ column }},
        {%- endfor %}
        cast(shadow_totals.shadow_usd as decimal(18, 4)) as shadow_usd,
        -- what the invoice would have totalled without the model's spend caps, and whether a cap
        -- was passed (a hard cap billed at it, a soft one alerted)
        cast(shadow_totals.shadow_uncapped_usd as decimal(18, 4)) as shadow_uncapped_usd,
        shadow_totals.is_over_cap,
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
