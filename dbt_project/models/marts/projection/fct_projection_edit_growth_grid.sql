-- Grain: one row per growth multiplier x rated line (growth_multiplier, rating_key,
-- price_model_id, component_id; the rating key names its origin).
-- The edit sample (fct_projection_edit_sample) rated in advance at each growth multiplier of
-- projection_edit_growth_grid (the one in force among them), with the scenario spread in force:
-- what the Projection page's re-projection would rate on an edit of the growth multiplier alone,
-- by the same macros (projection_rates_applied, projection_usage_growth, rate_usage restricted to
-- projection_edit_account_models; the backtest under its own price book), in one pass: each
-- multiplier grows a copy of the sample whose accounts and segments carry its tag. rated_usd is
-- a line's amount rounded to cents, as the projection sums it; driver what the line moves with
-- (projection_edit_line_drivers). At a multiplier of the grid the page reads these lines; between
-- two it moves each by its driver (docs block projection_edit_estimate).
{%- set grid = projection_edit_growth_grid() %}
{#- a copy's multiplier, from the tag its segment carries (projection_rates_applied's row) #}
{%- set cases = [] %}
{%- for value in grid %}
{%- set tag = "'%#" ~ loop.index ~ "'" %}
{%- do cases.append('when projection_measured.segment like ' ~ tag ~ ' then ' ~ value) %}
{%- endfor %}
{%- set grid_multiplier_case = 'case ' ~ (cases | join(' ')) ~ ' end' %}
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

-- the grid's multipliers, each with a tag that names its copy of an account and a segment
grid_points as (
    {%- for value in grid %}
    select
        cast({{ value }} as double) as growth_multiplier,
        '{{ loop.index }}' as grid_index,
        '#{{ loop.index }}' as grid_tag
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- the measured rates, the bases and the quantities once per multiplier: each copy's segment and
-- account carry the multiplier's tag, so that one pass of the projection's macros grows every
-- copy by its own multiplier, under rating keys of its own
grid_measured_rates as (
    select
        measured_rates.origin_kind,
        measured_rates.segment || grid_points.grid_tag as segment,
        measured_rates.metric,
        measured_rates.measured_churn_rate,
        measured_rates.churn_rate_error,
        measured_rates.measured_growth_rate,
        measured_rates.growth_rate_error,
        measured_rates.is_growth_trended,
        measured_rates.growth_trend_level,
        measured_rates.growth_trend_slope
    from measured_rates
    cross join grid_points
),

grid_bases as (
    select
        sampled_bases.origin_kind,
        sampled_bases.origin_month,
        sampled_bases.account_id || grid_points.grid_tag as account_id,
        sampled_bases.segment || grid_points.grid_tag as segment,
        sampled_bases.price_model_id,
        sampled_bases.sample_weight
    from sampled_bases
    cross join grid_points
),

grid_quantities as (
    select
        sampled_quantities.account_id || grid_points.grid_tag as account_id,
        sampled_quantities.month,
        sampled_quantities.metric,
        sampled_quantities.quantity,
        sampled_quantities.events,
        sampled_quantities.momentum_log_growth
    from sampled_quantities
    cross join grid_points
),

{{ projection_rates_applied('grid_measured_rates', growth_multiplier=grid_multiplier_case) }},

{{ projection_usage_growth(
    'projection_rates', 'grid_bases', 'sampled_origins', 'grid_quantities', ref('price_components')
) }},

-- each copy's keys with its multiplier; rating_key as the projection names it (no tag)
usage_grown as (
    select
        grid_points.growth_multiplier,
        projection_usage_grown.rating_key as grid_rating_key,
        replace(projection_usage_grown.rating_key, grid_points.grid_tag, '') as rating_key,
        projection_usage_grown.origin_kind,
        projection_usage_grown.origin_month,
        projection_usage_grown.account_id,
        projection_usage_grown.metric,
        projection_usage_grown.quantity,
        projection_usage_grown.events
    from projection_usage_grown
    inner join grid_points
        on
            {{ dbt.split_part('projection_usage_grown.segment', "'#'", 2) }}
            = grid_points.grid_index
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
    'grid_usage', 'grid_bases', 'price_models'
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
        cast(dense_rank() over (
            order by grid_keys.rating_key, rated.price_model_id, rated.component_id
        ) as {{ dbt.type_bigint() }}) as line_id,
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
