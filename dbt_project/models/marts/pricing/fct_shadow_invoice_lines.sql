-- Grain: one row per rated account-month x price model x component
-- (account_id, month, price_model_id, component_id).
-- The shadow invoice's lines: the quantity, the units rated, the exact charge and the line amount
-- (half-up to cents), what a spend cap gave up and blocked, and for prepaid pools the balances,
-- breakage and alerts of the replay.
with

rated_lines as (select * from {{ ref('int_account_months_rated_by_price_model') }}),

final as (
    select
        account_id || '|' || cast(month as {{ dbt.type_string() }}) || '|' || price_model_id
        || '|' || component_id as shadow_invoice_line_id,
        account_id,
        month,
        price_model_id,
        component_id,
        metric,
        charge_model,
        cast(quantity as decimal(38, 12)) as quantity,
        cast(units as decimal(38, 12)) as units,
        cast(amount as decimal(38, 12)) as amount_exact_usd,
        cast(amount_usd as decimal(18, 4)) as amount_usd,
        cast(uncapped_amount_usd as decimal(18, 4)) as uncapped_amount_usd,
        cast(uncapped_amount_usd - amount_usd as decimal(18, 4)) as capped_amount_usd,
        cast(blocked_units as decimal(38, 12)) as blocked_units,
        coalesce(is_over_cap, false) as is_over_cap,
        cast(pool_opening_units as decimal(38, 12)) as pool_opening_units,
        cast(pool_available_units as decimal(38, 12)) as pool_available_units,
        cast(pool_used_units as decimal(38, 12)) as pool_used_units,
        cast(pool_overage_units as decimal(38, 12)) as pool_overage_units,
        cast(pool_expired_units as decimal(38, 12)) as pool_expired_units,
        cast(pool_closing_units as decimal(38, 12)) as pool_closing_units,
        cast(pool_alert_pct as integer) as pool_alert_pct
    from rated_lines
)

select * from final
