-- Grain: one row per rated line of a projected account-month (account_id = the rating key of
-- int_projection_usage_grown, price_model_id, component_id).
-- The projection's grown quantities rated by the one rating engine (macro rate_usage) under every
-- model of the price book, each projected month as a month of its own. A table of its own rather
-- than a CTE of int_projected_revenue_aggregated_to_segment: rated in one query together with
-- the aggregation, it needed more than 500 MB of memory DuckDB could not spill on the
-- 14,500-account company (and ran out of the refresh's 4 GB once); apart, each query ran in 300 MB.
with

{{ projection_rated_lines(
    ref('int_projection_usage_grown'),
    'projection',
    ref('price_components'),
    ref('price_tiers'),
    ref('price_models'),
) }}

select * from projection_rated_lines
