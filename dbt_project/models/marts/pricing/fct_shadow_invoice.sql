-- Grain: one row per rated account-month x price model (account_id, month, price_model_id).
-- The shadow invoice beside the real one: what the account would have paid under the model
-- (shadow_usd, the sum of its components rounded to cents) and what it paid for the same things
-- (actual_usd: the subscription, proration and usage lines of its invoices, before tax, discounts
-- and credits). Bill shock under the model comes from the one bill-shock rule that also judges the
-- real invoices (int_account_months_judged_for_bill_shock).
-- The current per-seat model must reproduce actual_usd: where it does not, gap_reason names why,
-- from the evidence the warehouse already holds (the reconciliation's mismatches of the month's
-- invoices, a draft invoice, a missing rate), and `unexplained` otherwise.
with

shadow_billed as (select * from {{ ref('int_account_months_shadow_billed') }}),

judged as (select * from {{ ref('int_account_months_judged_for_bill_shock') }}),

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

models_in_force as (select * from {{ ref('int_account_months_split_by_price_model') }}),

-- Months whose invoices are (in part) another model's: a model other than the current one was
-- assigned in the month or the month before (an assigned month is invoiced the month after).
-- The current model's shadow still re-rates them per seat; the real bill is the assigned model's.
assigned_invoice_months as (
    select distinct
        account_id,
        month
    from models_in_force
    where is_assigned and price_model_id <> {{ current_price_model_id() }}
    union
    select distinct
        account_id,
        cast({{ dbt.dateadd('month', 1, 'month') }} as date) as month
    from models_in_force
    where is_assigned and price_model_id <> {{ current_price_model_id() }}
),

-- Billing errors the reconciliation found on the month's issued invoices, or on the lines of the
-- periods starting in the month (which the current model's shadow rates in that month, even when
-- the invoice paired with them was issued in another month), by reason. A seat invoice is issued
-- at its period's start: for it both months are the same.
errors_by_month as (
    select
        account_id,
        invoice_month as month,
        mismatch_reason
    from reconciled
    where is_match = false
        and coalesce(invoice_status, '') <> 'draft'
    union all
    select
        account_id,
        {{ month_of('period_start') }} as month,
        mismatch_reason
    from reconciled
    where is_match = false
        and coalesce(invoice_status, '') <> 'draft'
        and period_start is not null
),

billing_errors as (
    select
        account_id,
        month,
        {{ dbt.listagg('distinct mismatch_reason', "', '", 'order by mismatch_reason') }}
            as mismatch_reasons
    from errors_by_month
    group by account_id, month
),

-- A draft is the period's bill not yet issued: the model bills the period, actual_usd does not.
draft_months as (
    select distinct
        account_id,
        issued_month as month
    from invoices
    where status = 'draft'
),

final as (
    select
        shadow_billed.account_id || '|' || cast(shadow_billed.month as {{ dbt.type_string() }})
        || '|' || shadow_billed.price_model_id as shadow_invoice_id,
        shadow_billed.account_id,
        shadow_billed.month,
        shadow_billed.segment,
        shadow_billed.price_model_id,
        shadow_billed.actual_usd,
        shadow_billed.actual_adjustments_usd,
        shadow_billed.actual_subtotal_usd,
        shadow_billed.actual_recurring_usd,
        shadow_billed.shadow_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.actual_usd as decimal(18, 4)) as delta_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.actual_usd as double)
        / nullif(shadow_billed.actual_usd, 0) as delta_pct,
        case
            when shadow_billed.price_model_id <> {{ current_price_model_id() }} then null
            when shadow_billed.actual_usd is null then 'missing_fx_rate'
            -- Rounding, not a gap: the shadow rounds each of the model's (at most four) components
            -- to cents after converting a non-USD line, the invoice converts unrounded: half a
            -- cent per component.
            when abs(shadow_billed.shadow_usd - shadow_billed.actual_usd) <= 0.02 then null
            when billing_errors.mismatch_reasons is not null and draft_months.account_id is not null
                then 'draft_invoice, ' || billing_errors.mismatch_reasons
            when billing_errors.mismatch_reasons is not null then billing_errors.mismatch_reasons
            when assigned_invoice_months.account_id is not null then 'billed_under_assigned_model'
            when draft_months.account_id is not null then 'draft_invoice'
            else 'unexplained'
        end as gap_reason,
        shadow_billed.cost_to_serve_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.cost_to_serve_usd as double)
        / nullif(shadow_billed.shadow_usd, 0) as shadow_gross_margin,
        coalesce(judged.is_billed, false) as is_billed,
        coalesce(judged.is_judged, false) as is_bill_shock_judged,
        coalesce(judged.is_bill_shock, false) as is_bill_shock,
        shadow_billed.shadow_uncapped_usd,
        cast(shadow_billed.shadow_uncapped_usd - shadow_billed.shadow_usd as decimal(18, 4))
            as revenue_given_up_usd,
        coalesce(shadow_billed.is_over_cap, false) as is_over_cap,
        coalesce(judged.is_bill_shock_uncapped, false) as is_bill_shock_uncapped
    from shadow_billed
    left join judged
        on shadow_billed.account_id = judged.account_id
            and shadow_billed.month = judged.month
            and shadow_billed.price_model_id = judged.price_model_id
    left join billing_errors
        on shadow_billed.account_id = billing_errors.account_id
            and shadow_billed.month = billing_errors.month
    left join draft_months
        on shadow_billed.account_id = draft_months.account_id
            and shadow_billed.month = draft_months.month
    left join assigned_invoice_months
        on shadow_billed.account_id = assigned_invoice_months.account_id
            and shadow_billed.month = assigned_invoice_months.month
)

select * from final
