-- Grain: one row per origin x segment x price model x scenario x months ahead
-- (origin_kind, segment, price_model_id, scenario, months_ahead).
-- The projection engine (docs block revenue_projection). Every projected account-month of
-- int_projection_usage_grown is rated by the one rating engine (macro rate_usage) under every
-- model of the price book (int_projection_usage_rated; the backtest under the current one,
-- int_projection_backtest_usage_rated), as a month of its own (a prepaid pool's rollover between
-- projected months is not modelled); months between the rated ones
-- (projection_rated_months) are interpolated. The account's bill k months ahead is its bill at the
-- origin plus what the rating adds or removes from there:
--     revenue_k = greatest(base_usd + rated_k - rated_0, least(base_usd, 0))
-- so month 0 is exactly the real (current model) or shadow (proposal) bill, and nothing moves when
-- nothing grows. It then counts with the probability that the account is still a customer:
--     survival_k = (1 - monthly churn)^k x (1 - projection_shock_churn if shocked at the switch
--                  and k >= 1)
-- and is summed by segment. The backtest runs the middle scenario only, under the current model.
-- Beside each proposal's forced switch, its projection under customer choice: the accounts that
-- would take it (int_projection_bases.is_choosing_proposal) projected under it, the others under
-- the current model (docs block projection_choice_revenue).
-- The SQL after the rating is macro projection_revenue_by_segment, which rpt_projection_sql
-- publishes for the Projection page's re-projection (it rates with rpt_rating_sql).
with

origins as (select * from {{ ref('int_projection_origins') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

usage_grown as (select * from {{ ref('int_projection_usage_grown') }}),

rated_projection as (select * from {{ ref('int_projection_usage_rated') }}),

rated_backtest as (select * from {{ ref('int_projection_backtest_usage_rated') }}),

{{ projection_revenue_by_segment(
    'usage_grown', 'rated_projection', 'rated_backtest', 'bases', 'origins'
) }}

select * from projection_by_segment
