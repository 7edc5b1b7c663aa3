-- Grain: one row per segment x price model x scenario x months ahead
-- (segment, price_model_id, scenario, months_ahead), as fct_revenue_projection; segment `all` is
-- the sum of the segments.
-- Beside each projected MRR, what serving that base costs (its tokens grown with the segment's
-- usage, each tier's cost falling along the projection's cost curve), the gross margin, and the
-- cash the model brings in that month (docs blocks projected_cost, projected_margin,
-- projected_cash). The SQL is macro projection_margin_and_cash, published in rpt_projection_sql:
-- the Projection page's re-projection gives these rows exactly with the settings in force.
with

revenue_projection as (select * from {{ ref('fct_revenue_projection') }}),

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

cost_bases as (select * from {{ ref('fct_projection_cost_bases') }}),

cost_curve as (select * from {{ ref('fct_model_cost_curve') }}),

cash_bases as (select * from {{ ref('fct_projection_cash_bases') }}),

{{ projection_margin_and_cash(
    'revenue_projection', 'rates', 'cost_bases', 'cost_curve', 'cash_bases'
) }}

select * from projection_margin_and_cash_rows
