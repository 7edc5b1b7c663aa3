-- Grain: one row per rated account-month x price model x component
-- (account_id, month, price_model_id, component_id).
-- Every rated account-month under every model of the price book, by the one rating engine
-- (macro rate_usage, docs/price-book.md). `amount` is exact; `amount_usd` is the shadow invoice's
-- line, rounded half-up to cents. A model with a spend cap of its own has one more line per
-- account-month, component `model_cap`: the cap's adjustment of the invoice total.
with

rated as (
    {{ rate_usage(
        "(select account_id, month as period, metric, quantity, events from "
            ~ ref('int_account_month_metrics_unpivoted') ~ ")",
        ref('price_components'),
        ref('price_tiers'),
        ref('price_models'),
    ) | indent(4) }}
),

final as (
    select
        account_id,
        period as month,
        price_model_id,
        component_id,
        metric,
        charge_model,
        quantity,
        events,
        units,
        amount,
        {{ round_half_up_to_cents('amount') }} as amount_usd,
        uncapped_amount,
        -- what the line would have billed without its cap, rounded as the invoice rounds (a
        -- model cap's line adjusts the total and bills nothing uncapped)
        {{ round_half_up_to_cents('uncapped_amount') }} as uncapped_amount_usd,
        capped_amount,
        blocked_units,
        is_over_cap,
        pool_opening_units,
        pool_available_units,
        pool_used_units,
        pool_overage_units,
        pool_expired_units,
        pool_closing_units,
        pool_alert_pct
    from rated
)

select * from final
