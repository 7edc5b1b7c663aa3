-- Grain: one row per published query (sql_name).
-- The rating engine and the shadow-billing summary, compiled over placeholder relations, so that
-- `seatshift rate` and the dashboard's what-if run the very SQL of this build in DuckDB against
-- their own tables:
--   rate_usage       reads rating_usage (account_id, period, metric, quantity, events),
--                    rating_price_components, rating_price_tiers and rating_price_models
--                    (docs/price-book.md's CSVs; of the models, their spend caps);
--   shadow_invoices  reads rating_lines (rate_usage's output) and rating_actuals (account_id,
--                    month, segment, actual_usd, cost_to_serve_usd);
--   summarise        reads rating_shadow_invoices (shadow_invoices' output).
--   customer_choice  reads rating_choice_months (account_id, segment, month, mrr_usd: the MRR
--                    fct_account_month holds), rating_shadow_invoices and rating_choice_models
--                    (price_model_id, offered_as, is_current_model): fct_customer_choice's rows;
--   customer_choice_by_segment  reads rating_customer_choice (customer_choice's output):
--                    fct_customer_choice_by_segment's rows.
{%- set queries = [
    ('rate_usage', rate_usage(
        'rating_usage', 'rating_price_components', 'rating_price_tiers', 'rating_price_models'
    )),
    ('shadow_invoices', shadow_invoices_from_rated_lines('rating_lines', 'rating_actuals')),
    ('summarise', summarise_shadow_billing('rating_shadow_invoices')),
    ('customer_choice', customer_choice_query(
        'rating_choice_months', 'rating_shadow_invoices', 'rating_choice_models'
    )),
    ('customer_choice_by_segment', customer_choice_by_segment_query('rating_customer_choice')),
] %}

with

queries as (
    {%- for name, sql in queries %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as sql_name,
        cast('{{ sql | replace("'", "''") }}' as {{ dbt.type_string() }}) as sql_text
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from queries
