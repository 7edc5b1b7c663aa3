-- Grain: one row per projected account-month x metric (rating_key, metric), where rating_key is
-- origin_kind | account_id | scenario | months_ahead.
-- The quantities a projection rates (docs block revenue_projection): each base account's rated
-- quantities at the origin, grown by its segment's monthly growth rate of the scenario, k months
-- ahead: quantity x (1 + growth)^k (events alike). Only the metrics some model of the price book
-- prices, or counts an allowance by, are kept. The backtest needs the middle scenario only. A
-- table of its own: the rating engine's recursive pool replay must read a stored relation.
-- Only the months of projection_rated_months (and each origin's last month) are rated, month 0
-- once for every scenario (nothing has grown yet); the engine interpolates the months between
-- (rating every month of 10k accounts x 3 scenarios was most of a refresh).
-- The SQL is macro projection_usage_growth, which rpt_projection_sql publishes for the
-- Projection page's re-projection.
with

origins as (select * from {{ ref('int_projection_origins') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

metrics as (select * from {{ ref('int_projection_quantities') }}),

price_components as (select * from {{ ref('price_components') }}),

{{ projection_usage_growth('rates', 'bases', 'origins', 'metrics', 'price_components') }}

select * from projection_usage_grown
