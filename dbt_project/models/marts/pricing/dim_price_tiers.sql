-- Grain: one row per tier of a tiered component (price_model_id, component_id, tier).
select
    price_model_id,
    component_id,
    tier,
    up_to,
    per_unit_amount,
    rate_pct,
    flat_amount
from {{ ref('price_tiers') }}
