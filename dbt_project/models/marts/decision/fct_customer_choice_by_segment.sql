-- Grain: one row per segment x proposal (segment, price_model_id): the segments of the accounts
-- plus `all`, every proposal of the price book.
-- What offering the proposal as an option would do to revenue, beside the forced switch (docs
-- blocks choice_revenue, forced_switch_revenue, adverse_selection): the sums over the accounts of
-- fct_customer_choice, over its trailing window.
-- The sums are macro customer_choice_by_segment_query, which rpt_rating_sql also publishes.
with

by_segment as (
    {{ customer_choice_by_segment_query(ref('fct_customer_choice')) | indent(4) }}
)

select * from by_segment
