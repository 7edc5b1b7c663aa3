-- Grain: one row per price model component (price_model_id, component_id), as in the seed.
select
    price_model_id,
    component_id,
    metric,
    charge_model,
    unit_size,
    unit_amount,
    flat_amount,
    package_size,
    package_amount,
    free_units,
    free_units_per_metric,
    rate_pct,
    fixed_amount,
    pool_units,
    rollover_pct,
    rollover_periods,
    pool_term_periods,
    minimum_amount,
    cap_amount,
    cap_policy
from {{ ref('price_components') }}
