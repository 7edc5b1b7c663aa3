-- Grain: one row per rated line of a backtest account-month (account_id = the rating key of
-- int_projection_usage_grown, price_model_id, component_id).
-- The backtest's grown quantities rated by the one rating engine (macro rate_usage) under the
-- models it compares (the current one: macro projection_backtest_components), each month as a
-- month of its own. Apart from the aggregation for the reason int_projection_usage_rated gives.
with

{{ projection_rated_lines(
    ref('int_projection_usage_grown'),
    'backtest',
    projection_backtest_components(ref('price_components'), ref('int_projection_bases')),
    ref('price_tiers'),
    ref('price_models'),
) }}

select * from projection_rated_lines
