-- Grain: one row per segment x months ahead (segment, months_ahead); segment `all` is the sum.
-- The projection's track record (docs block projection_backtest_mape): the same method, run from
-- projection_backtest_months before the as-of month on the base of that month (middle scenario,
-- current model), beside what the current model actually billed that same base in each month
-- since (actual_usd of fct_shadow_invoice; an account that left counts 0). New customers since the
-- origin are left out on both sides: the projection is of today's base, so its error must be too.
-- backtest_mape is the mean, over months 1 .. projection_backtest_months with an actual above 0,
-- of |projected - actual| / actual; month 0 agrees by construction and is not counted.
-- The SQL is macro projection_backtest_results, published in rpt_projection_sql.
with

projected as (select * from {{ ref('int_projected_revenue_aggregated_to_segment') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

{{ projection_backtest_results('projected', 'bases', 'account_months') }}

select * from projection_backtest_rows
