-- Grain: one row per segment x price model x scenario x months ahead
-- (segment, price_model_id, scenario, months_ahead); segment `all` is the sum of the segments.
-- What today's base would bill under each model over the next projection_horizon_months, in three
-- scenarios (docs block revenue_projection). The engine is
-- int_projected_revenue_aggregated_to_segment; here the three rate sets become the scenarios:
-- for each segment, model and month, `worst` is the lowest of the three projections, `middle`
-- the median and `best` the highest. With the usual price
-- books that is the rate set of the same name (rate_scenario says which it was); a book whose
-- bill falls as usage rises (volume tiers, negative prices) can swap them, and a scenario named
-- `best` must never show less than `worst`. backtest_mape is the current model's error over the
-- backtest (fct_revenue_projection_backtest); a proposal, never billed, carries it
-- (is_backtest_carried): its projection uses the same churn and drift, so the method's track
-- record is the best evidence there is of how far to trust it.
-- The SQL is macro revenue_projection_results, published in rpt_projection_sql: the Projection
-- page's re-projection with the settings in force gives these rows exactly.
with

projected as (select * from {{ ref('int_projected_revenue_aggregated_to_segment') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

backtest as (select * from {{ ref('fct_revenue_projection_backtest') }}),

{{ revenue_projection_results('projected', 'backtest', 'price_models') }}

select * from revenue_projection_rows
