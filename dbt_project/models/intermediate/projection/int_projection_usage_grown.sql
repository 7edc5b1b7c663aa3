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
{%- set rated_months = var('projection_rated_months') | map('int') | list %}
{%- set horizon = [
    var('projection_horizon_months') | int, var('projection_backtest_months') | int
] | max %}
with

origins as (select * from {{ ref('int_projection_origins') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

metrics as (select * from {{ ref('int_account_month_metrics_unpivoted') }}),

price_components as (select * from {{ ref('price_components') }}),

months_ahead as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series(horizon + 1) }}) as month_offsets
),

-- only the metrics some model prices (or counts an allowance by) are worth rating
priced_metrics as (
    select {{ price_book_text('metric') }} as metric
    from price_components
    union
    select {{ price_book_text('free_units_per_metric') }} as metric
    from price_components
),

base_accounts as (
    select distinct
        origin_kind,
        origin_month,
        account_id,
        segment
    from bases
),

segment_rates as (
    select distinct
        origin_kind,
        segment,
        scenario,
        monthly_churn_rate
    from rates
),

projection_keys as (
    select
        base_accounts.origin_kind,
        base_accounts.origin_month,
        base_accounts.account_id,
        base_accounts.segment,
        segment_rates.scenario,
        segment_rates.monthly_churn_rate,
        months_ahead.months_ahead,
        base_accounts.origin_kind || '|' || base_accounts.account_id
        || '|' || segment_rates.scenario
        || '|' || cast(months_ahead.months_ahead as {{ dbt.type_string() }}) as rating_key
    from base_accounts
    inner join origins
        on base_accounts.origin_kind = origins.origin_kind
    inner join segment_rates
        on base_accounts.origin_kind = segment_rates.origin_kind
            and base_accounts.segment = segment_rates.segment
    inner join months_ahead
        on origins.horizon_months >= months_ahead.months_ahead
    where (base_accounts.origin_kind = 'projection' or segment_rates.scenario = 'middle')
        and (months_ahead.months_ahead > 0 or segment_rates.scenario = 'middle')
        and (
            months_ahead.months_ahead in ({{ rated_months | join(', ') }})
            or months_ahead.months_ahead = origins.horizon_months
        )
),

projected_usage as (
    select
        projection_keys.rating_key,
        projection_keys.origin_kind,
        projection_keys.origin_month,
        projection_keys.account_id,
        projection_keys.segment,
        projection_keys.scenario,
        projection_keys.monthly_churn_rate,
        projection_keys.months_ahead,
        metrics.metric,
        metrics.quantity * cast(
            power(1 + rates.monthly_growth_rate, projection_keys.months_ahead)
            as {{ rating_decimal() }}
        ) as quantity,
        metrics.events * cast(
            power(1 + rates.monthly_growth_rate, projection_keys.months_ahead)
            as {{ rating_decimal() }}
        ) as events
    from projection_keys
    inner join metrics
        on projection_keys.account_id = metrics.account_id
            and projection_keys.origin_month = metrics.month
    inner join priced_metrics
        on metrics.metric = priced_metrics.metric
    inner join rates
        on projection_keys.origin_kind = rates.origin_kind
            and projection_keys.segment = rates.segment
            and projection_keys.scenario = rates.scenario
            and metrics.metric = rates.metric
)

select * from projected_usage
