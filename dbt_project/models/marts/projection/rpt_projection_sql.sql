-- Grain: one row per published query (sql_name).
-- The revenue projection compiled over placeholder relations, with its editable assumptions
-- (projection_assumption_names) as named parameters, so the Projection page re-projects an
-- edited assumption with the very SQL of this build's projection models (macros/projection), and
-- rates the grown quantities with the build's rating SQL (rpt_rating_sql's rate_usage), never a
-- second engine. In the order the page runs them, each result stored under the name the next
-- ones read:
--   projection_origins        reads projection_bases (fct_projection_bases)
--   projection_rates          reads projection_measured_rates (fct_projection_measured_rates);
--                             binds $projection_scenario_spread, $projection_churn_multiplier,
--                             $projection_growth_multiplier
--   projection_usage_grown    reads projection_rates, projection_bases, projection_origins,
--                             projection_quantities (fct_rating_quantities: account_id, month,
--                             metric, quantity, events) and rating_price_components
--   projection_rating_usage   reads projection_usage_grown: rate_usage's rating_usage for the
--   backtest_rating_usage     projection and the backtest (rated into projection_rated_lines and
--   backtest_price_components backtest_rated_lines, the backtest under these components)
--   projection_edit_account_models  reads projection_usage_grown, projection_bases (the edit
--                             sample's) and projection_price_models: the models each sampled
--                             projection key is rated under (projection_edit_account_models)
--   projection_edit_rating    rate_usage restricted to those pairs: reads rating_usage,
--                             rating_price_components, rating_price_tiers, rating_price_models and
--                             projection_edit_account_models (the edit sample's projection lines)
--   projection_by_segment     reads projection_usage_grown, projection_rated_lines,
--                             backtest_rated_lines, projection_bases (with its accounts'
--                             customer choice, is_choosing_proposal), projection_origins;
--                             binds $projection_shock_churn
--   projection_by_segment_sampled  the same over the edit sample (projection_bases then holds
--                             the sampled accounts with their sample_weight,
--                             fct_projection_edit_sample), each account counted for its stratum;
--                             binds $projection_shock_churn
--   projection_by_segment_estimated reads projection_edit_anchors (fct_projection_edit_anchors)
--                             and projection_by_segment_sampled: the build's projection by segment
--                             moved by what the edit moved the sample's (projection_edit_estimate),
--                             which the page stores as projection_by_segment
--   projection_backtest       reads projection_by_segment, projection_bases and
--                             projection_actuals (fct_shadow_invoice):
--                             fct_revenue_projection_backtest's rows
--   revenue_projection        reads projection_by_segment, projection_backtest and
--                             projection_price_models (dim_price_models): fct_revenue_projection
--   projection_margin_and_cash reads revenue_projection, projection_rates,
--                             projection_cost_bases (fct_projection_cost_bases),
--                             projection_cost_curve (fct_model_cost_curve: model,
--                             projection_yearly_decline) and projection_cash_bases
--                             (fct_projection_cash_bases); binds $projection_shock_churn:
--                             fct_projection_margin_and_cash
{%- set queries = [
    ('projection_origins',
        'select distinct origin_kind, origin_month, horizon_months\nfrom projection_bases', []),
    ('projection_rates',
        'with ' ~ projection_rates_applied('projection_measured_rates', as_parameters=true)
        ~ ' select * from projection_rates',
        ['projection_scenario_spread', 'projection_churn_multiplier',
         'projection_growth_multiplier']),
    ('projection_usage_grown',
        'with ' ~ projection_usage_growth(
            'projection_rates', 'projection_bases', 'projection_origins',
            'projection_quantities', 'rating_price_components')
        ~ ' select * from projection_usage_grown', []),
    ('projection_rating_usage',
        'select * from ' ~ projection_rating_usage('projection_usage_grown', 'projection')
        ~ ' as rating_usage', []),
    ('backtest_rating_usage',
        'select * from ' ~ projection_rating_usage('projection_usage_grown', 'backtest')
        ~ ' as rating_usage', []),
    ('projection_edit_account_models',
        'select * from ' ~ projection_edit_account_models(
            'projection_usage_grown', 'projection_bases', 'projection_price_models')
        ~ ' as account_models', []),
    ('projection_edit_rating',
        rate_usage(
            'rating_usage', 'rating_price_components', 'rating_price_tiers',
            'rating_price_models', account_models='projection_edit_account_models'), []),
    ('projection_edit_grid_lines',
        projection_edit_grid_lines(
            'projection_growth_grid', 'projection_usage_grown', 'rating_price_components',
            'rating_price_models'), []),
    ('backtest_price_components',
        'select * from ' ~ projection_backtest_components(
            'rating_price_components', 'projection_bases')
        ~ ' as components', []),
    ('projection_by_segment',
        'with ' ~ projection_revenue_by_segment(
            'projection_usage_grown', 'projection_rated_lines', 'backtest_rated_lines',
            'projection_bases', 'projection_origins', as_parameters=true)
        ~ ' select * from projection_by_segment',
        ['projection_shock_churn']),
    ('projection_by_segment_sampled',
        'with ' ~ projection_revenue_by_segment(
            'projection_usage_grown', 'projection_rated_lines', 'backtest_rated_lines',
            'projection_bases', 'projection_origins', as_parameters=true, weighted=true)
        ~ ' select * from projection_by_segment',
        ['projection_shock_churn']),
    ('projection_by_segment_estimated',
        'with ' ~ projection_edit_estimate(
            'projection_edit_anchors', 'projection_by_segment_sampled')
        ~ ' select * from projection_edit_estimated', []),
    ('projection_backtest',
        'with ' ~ projection_backtest_results(
            'projection_by_segment', 'projection_bases', 'projection_actuals')
        ~ ' select * from projection_backtest_rows', []),
    ('revenue_projection',
        'with ' ~ revenue_projection_results(
            'projection_by_segment', 'projection_backtest', 'projection_price_models')
        ~ ' select * from revenue_projection_rows', []),
    ('projection_margin_and_cash',
        'with ' ~ projection_margin_and_cash(
            'revenue_projection', 'projection_rates', 'projection_cost_bases',
            'projection_cost_curve', 'projection_cash_bases', as_parameters=true)
        ~ ' select * from projection_margin_and_cash_rows',
        ['projection_shock_churn']),
] %}

with

queries as (
    {%- for name, sql, parameters in queries %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as sql_name,
        cast({{ loop.index }} as integer) as run_order,
        -- the rendered queries are long lines inside one literal
        cast('{{ sql | replace("'", "''") }}' as {{ dbt.type_string() }}) as sql_text,  -- noqa: LT05
        cast('{{ parameters | join(",") }}' as {{ dbt.type_string() }}) as parameter_names  -- noqa: LT05
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from queries
