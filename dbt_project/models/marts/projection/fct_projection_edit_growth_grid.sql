-- Grain: one row per growth multiplier x origin x rating key x price model
-- (growth_multiplier, rating_key, price_model_id; the rating key names its origin).
-- The edit sample (fct_projection_edit_sample) rated in advance at each growth multiplier of
-- projection_edit_growth_grid (the one in force among them), with the scenario spread and the
-- churn in force: what the Projection page's re-projection would rate on an edit of the growth
-- multiplier alone, by the same macros (projection_rates_applied, projection_usage_growth,
-- rate_usage restricted to projection_edit_account_models; the backtest under its own price
-- book). rated_usd is the sum of a key's lines under a model, each rounded to cents, as the
-- projection sums them. At a multiplier of the grid the page reads these bills; between two it
-- interpolates each bill (docs block projection_edit_estimate).
{%- set grid = projection_edit_growth_grid() %}
with

edit_sample as (select * from {{ ref('fct_projection_edit_sample') }}),

sampled_bases as (
    select
        bases.*,
        edit_sample.sample_weight
    from {{ ref('fct_projection_bases') }} as bases
    inner join edit_sample
        on bases.origin_kind = edit_sample.origin_kind
            and bases.account_id = edit_sample.account_id
            and bases.price_model_id = edit_sample.price_model_id
),

sampled_quantities as (
    select
        account_id,
        month,
        metric,
        quantity,
        events,
        momentum_log_growth
    from {{ ref('fct_projection_quantities') }}
    where account_id in (select edit_sample.account_id from edit_sample)
),

sampled_origins as (
    select distinct
        origin_kind,
        origin_month,
        horizon_months
    from sampled_bases
),

measured_rates as (select * from {{ ref('fct_projection_measured_rates') }}),

price_models as (
    select
        price_model_id,
        is_current_model
    from {{ ref('dim_price_models') }}
),

-- the sample's quantities grown at each multiplier of the grid, each key tagged with its value
usage_grown as (
    {%- for value in grid %}
    select
        cast({{ value }} as double) as growth_multiplier,
        grown.rating_key || '@{{ loop.index }}' as grid_rating_key,
        grown.rating_key,
        grown.origin_kind,
        grown.origin_month,
        grown.account_id,
        grown.metric,
        grown.quantity,
        grown.events
    from (
        with
        {{ projection_rates_applied('measured_rates', growth_multiplier=value) | indent(8) }},
        {{ projection_usage_growth(
            'projection_rates', 'sampled_bases', 'sampled_origins', 'sampled_quantities',
            ref('price_components')
        ) | indent(8) }}

        select * from projection_usage_grown
    ) as grown
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

grid_usage as (
    select
        grid_rating_key as rating_key,
        origin_kind,
        origin_month,
        account_id,
        metric,
        quantity,
        events
    from usage_grown
),

grid_account_models as {{ projection_edit_account_models(
    'grid_usage', 'sampled_bases', 'price_models'
) }},

projection_rated as (
    select
        account_id as grid_rating_key,
        price_model_id,
        component_id,
        amount
    from (
        {{ rate_usage(
            projection_rating_usage('grid_usage', 'projection'),
            ref('price_components'), ref('price_tiers'), ref('price_models'),
            account_models='grid_account_models'
        ) | indent(8) }}
    ) as rated
),

backtest_rated as (
    select
        account_id as grid_rating_key,
        price_model_id,
        component_id,
        amount
    from (
        {{ rate_usage(
            projection_rating_usage('grid_usage', 'backtest'),
            projection_backtest_components(ref('price_components'), 'sampled_bases'),
            ref('price_tiers'), ref('price_models')
        ) | indent(8) }}
    ) as rated
),

grid_keys as (
    select distinct
        grid_rating_key,
        growth_multiplier,
        origin_kind,
        rating_key
    from usage_grown
),

-- what each line moves with at its multiplier (projection_edit_line_drivers)
grid_drivers as {{ projection_edit_line_drivers('grid_usage', ref('price_components')) }},

final as (
    select
        cast(grid_keys.growth_multiplier as {{ dbt.type_string() }}) || '|' || grid_keys.rating_key
        || '|' || rated.price_model_id || '|' || rated.component_id as projection_edit_grid_id,
        -- the line, the same at every multiplier: what the page pairs a line's two amounts by
        dense_rank() over (
            order by grid_keys.rating_key, rated.price_model_id, rated.component_id
        ) as line_id,
        grid_keys.growth_multiplier,
        grid_keys.origin_kind,
        grid_keys.rating_key,
        rated.price_model_id,
        rated.component_id,
        max(grid_drivers.driver) as driver,
        cast(sum({{ round_half_up_to_cents('rated.amount') }}) as decimal(18, 2)) as rated_usd
    from (
        select * from projection_rated
        union all
        select * from backtest_rated
    ) as rated
    inner join grid_keys
        on rated.grid_rating_key = grid_keys.grid_rating_key
    left join grid_drivers
        on rated.grid_rating_key = grid_drivers.rating_key
            and rated.price_model_id = grid_drivers.price_model_id
            and rated.component_id = grid_drivers.component_id
    group by
        grid_keys.growth_multiplier,
        grid_keys.origin_kind,
        grid_keys.rating_key,
        rated.price_model_id,
        rated.component_id
)

-- in the order the page reads it: one multiplier's lines after another's
select * from final
order by growth_multiplier, line_id
