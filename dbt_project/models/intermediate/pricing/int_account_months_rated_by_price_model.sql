-- Grain: one row per rated account-month x price model x component
-- (account_id, month, price_model_id, component_id).
-- Every rated account-month under every model of the price book, by the one rating engine
-- (macro rate_usage, docs/price-book.md). `amount` is exact; `amount_usd` is the shadow invoice's
-- line,
-- rounded half-up to cents.
with

rated as (
    {{ rate_usage(
        "(select account_id, month as period, metric, quantity, events from "
            ~ ref('int_account_month_metrics_unpivoted') ~ ")",
        ref('price_components'),
        ref('price_tiers'),
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
