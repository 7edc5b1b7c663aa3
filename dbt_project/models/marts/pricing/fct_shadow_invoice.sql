-- Grain: one row per rated account-month x price model (account_id, month, price_model_id).
-- The shadow invoice beside the real one: what the account would have paid under the model
-- (shadow_usd, the sum of its components rounded to cents) and what it paid (actual_usd, invoice
-- subtotals before tax). Bill shock under the model comes from the one bill-shock rule that also
-- judges the real invoices (int_account_months_judged_for_bill_shock).
with

shadow_billed as (select * from {{ ref('int_account_months_shadow_billed') }}),

judged as (select * from {{ ref('int_account_months_judged_for_bill_shock') }}),

final as (
    select
        shadow_billed.account_id || '|' || cast(shadow_billed.month as {{ dbt.type_string() }})
        || '|' || shadow_billed.price_model_id as shadow_invoice_id,
        shadow_billed.account_id,
        shadow_billed.month,
        shadow_billed.segment,
        shadow_billed.price_model_id,
        shadow_billed.actual_usd,
        shadow_billed.actual_recurring_usd,
        shadow_billed.shadow_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.actual_usd as decimal(18, 4)) as delta_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.actual_usd as double)
        / nullif(shadow_billed.actual_usd, 0) as delta_pct,
        shadow_billed.cost_to_serve_usd,
        cast(shadow_billed.shadow_usd - shadow_billed.cost_to_serve_usd as double)
        / nullif(shadow_billed.shadow_usd, 0) as shadow_gross_margin,
        coalesce(judged.is_billed, false) as is_billed,
        coalesce(judged.is_judged, false) as is_bill_shock_judged,
        coalesce(judged.is_bill_shock, false) as is_bill_shock
    from shadow_billed
    left join judged
        on shadow_billed.account_id = judged.account_id
            and shadow_billed.month = judged.month
            and shadow_billed.price_model_id = judged.price_model_id
)

select * from final
