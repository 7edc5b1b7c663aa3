{#- How the projection grows an account's usage: momentum of its own, its segment's path and
    trend, held within the bounds the settings set. -#}


{#- How many months of slope a trend has gathered k months ahead: k, or with
    projection_trend_damping d below 1, 1 + d + ... + d^(k-1), so that a trend fades instead of
    running on for the whole horizon. -#}
{% macro projection_trend_months(months_ahead) -%}
{%- set damping = var('projection_trend_damping') | float -%}
{%- if damping == 1 -%}
{{ months_ahead }}
{%- else -%}
(1 - power({{ damping }}, {{ months_ahead }})) / (1 - {{ damping }})
{%- endif -%}
{%- endmacro %}


{#- A month's growth rate in force: the growth the history gives for that month (a logarithm),
    moved by the scenario's shift,
    scaled by the multiplier and held within projection_min_monthly_growth ..
    projection_max_monthly_growth, so that no history, however short or wild, compounds into an
    absurd projection. -#}
{% macro projection_bounded_growth(log_growth, shift, multiplier) -%}
round(least(
    greatest(
        {{ multiplier }} * (exp({{ log_growth }}) - 1 + {{ shift }}),
        {{ var('projection_min_monthly_growth') }}
    ),
    {{ var('projection_max_monthly_growth') }}
), 10)
{%- endmacro %}


{#- The factor a quantity has grown by k months ahead (inside projection_usage_growth): an
    account's MRR that has momentum of its own (momentum_log_growth: its monthly growth over the
    projection_momentum_months before the origin) and whose segment shows no accelerating trend
    carries that momentum forward, fading by projection_momentum_damping a month:
        exp(multiplier x momentum x (d + d^2 + ... + d^k)) x (1 + multiplier x scenario shift)^k,
    held within (1 + projection_min_monthly_growth)^k .. (1 + projection_max_monthly_growth)^k;
    every other quantity grows along its segment's path (projection_growth_path). -#}
{% macro projection_growth_factor() -%}
{%- set damping = var('projection_momentum_damping') | float -%}
case
    when projection_quantities.momentum_log_growth is not null
        and not projection_rates.is_growth_trended
        and projection_keys.months_ahead > 0
        then least(
            greatest(
                exp(
                    projection_rates.growth_multiplier
                    * least(
                        greatest(
                            projection_quantities.momentum_log_growth,
                            ln(1 + {{ var('projection_min_monthly_growth') }})
                        ),
                        ln(1 + {{ var('projection_max_monthly_growth') }})
                    )
                    {%- if damping == 1 %}
                    * projection_keys.months_ahead
                    {%- else %}
                    * {{ damping }} * (1 - power({{ damping }}, projection_keys.months_ahead))
                    / (1 - {{ damping }})
                    {%- endif %}
                )
                * power(
                    1 + projection_rates.growth_multiplier * projection_rates.growth_rate_shift,
                    projection_keys.months_ahead
                ),
                power(1 + {{ var('projection_min_monthly_growth') }}, projection_keys.months_ahead)
            ),
            power(1 + {{ var('projection_max_monthly_growth') }}, projection_keys.months_ahead)
        )
    else projection_growth_path.growth_factor
end
{%- endmacro %}


{#- The quantities a projection rates: each base account's rated quantities at the origin
    (`quantities`: account_id, month, metric, quantity, events), grown by its segment's monthly
    growth rate of the scenario, k months ahead: quantity x (1 + growth)^k (events alike). Only
    the metrics some model of the price book (`components`) prices, or counts an allowance by, are
    kept; the backtest needs the middle scenario only. Only the months of projection_rated_months
    (and each origin's last month) are rated, month 0 once for every scenario (nothing has grown
    yet); the months between are interpolated (projection_revenue_by_segment). -#}
{% macro projection_usage_growth(rates, bases, origins, quantities, components) -%}
{%- set rated_months = var('projection_rated_months') | map('int') | list -%}
projection_months_ahead as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series((projection_longest_horizon() | int) + 1) }}) as month_offsets
),

-- only the metrics some model prices (or counts an allowance by) are worth rating
projection_priced_metrics as (
    select {{ price_book_text('metric') }} as metric
    from {{ components }}
    union
    select {{ price_book_text('free_units_per_metric') }} as metric
    from {{ components }}
),

projection_base_accounts as (
    select distinct
        origin_kind,
        origin_month,
        account_id,
        segment
    from {{ bases }}
),

projection_segment_rates as (
    select distinct
        origin_kind,
        segment,
        scenario,
        monthly_churn_rate
    from {{ rates }}
),

{{ projection_growth_paths(rates) }},

projection_keys as (
    select
        projection_base_accounts.origin_kind,
        projection_base_accounts.origin_month,
        projection_base_accounts.account_id,
        projection_base_accounts.segment,
        projection_segment_rates.scenario,
        projection_segment_rates.monthly_churn_rate,
        projection_months_ahead.months_ahead,
        projection_base_accounts.origin_kind || '|' || projection_base_accounts.account_id
        || '|' || projection_segment_rates.scenario
        || '|' || cast(projection_months_ahead.months_ahead as {{ dbt.type_string() }})
            as rating_key
    from projection_base_accounts
    inner join {{ origins }} as projection_origins
        on projection_base_accounts.origin_kind = projection_origins.origin_kind
    inner join projection_segment_rates
        on projection_base_accounts.origin_kind = projection_segment_rates.origin_kind
            and projection_base_accounts.segment = projection_segment_rates.segment
    inner join projection_months_ahead
        on projection_origins.horizon_months >= projection_months_ahead.months_ahead
    where (
        projection_base_accounts.origin_kind = 'projection'
        or projection_segment_rates.scenario = 'middle'
    )
    and (
        projection_months_ahead.months_ahead > 0
        or projection_segment_rates.scenario = 'middle'
    )
    and (
        projection_months_ahead.months_ahead in ({{ rated_months | join(', ') }})
        or projection_months_ahead.months_ahead = projection_origins.horizon_months
    )
),

projection_usage_grown as (
    select
        projection_keys.rating_key,
        projection_keys.origin_kind,
        projection_keys.origin_month,
        projection_keys.account_id,
        projection_keys.segment,
        projection_keys.scenario,
        projection_keys.monthly_churn_rate,
        projection_keys.months_ahead,
        projection_quantities.metric,
        -- The growth factor (bounded month by month, so at most
        -- (1 + projection_max_monthly_growth)^k) times the quantity in double precision, the
        -- product then held as the rating engine's decimal.
        cast(
            cast(projection_quantities.quantity as double) * {{ projection_growth_factor() }}
            as {{ rating_decimal() }}
        ) as quantity,
        cast(
            cast(projection_quantities.events as double) * {{ projection_growth_factor() }}
            as {{ rating_decimal() }}
        ) as events
    from projection_keys
    inner join {{ quantities }} as projection_quantities
        on projection_keys.account_id = projection_quantities.account_id
            and projection_keys.origin_month = projection_quantities.month
    inner join projection_priced_metrics
        on projection_quantities.metric = projection_priced_metrics.metric
    inner join projection_growth_path
        on projection_keys.origin_kind = projection_growth_path.origin_kind
            and projection_keys.segment = projection_growth_path.segment
            and projection_keys.scenario = projection_growth_path.scenario
            and projection_quantities.metric = projection_growth_path.metric
            and projection_keys.months_ahead = projection_growth_path.months_ahead
    inner join {{ rates }} as projection_rates
        on projection_keys.origin_kind = projection_rates.origin_kind
            and projection_keys.segment = projection_rates.segment
            and projection_keys.scenario = projection_rates.scenario
            and projection_quantities.metric = projection_rates.metric
)
{%- endmacro %}


{#- The factor by which a metric of a segment has grown k months ahead along its rate set's path,
    as CTEs `projection_growth_steps` and `projection_growth_path` (origin_kind, segment, scenario,
    metric, months_ahead, growth_factor) over `rates` (projection_rates_applied's rows); reads a
    CTE `projection_months_ahead` (months_ahead 0 .. the longest horizon) the caller defines. The
    one growth path of the usage the projection rates and of the tokens its cost to serve counts. -#}
{% macro projection_growth_paths(rates) -%}
-- each month's growth rate of every rate set and metric: the history's line (its level at the
-- origin plus its slope per month, the pooled rate where the history shows no trend), bounded
-- (projection_bounded_growth);
-- compounded month after month into the factor a quantity has grown by k months ahead
projection_growth_steps as (
    select
        projection_rates.origin_kind,
        projection_rates.segment,
        projection_rates.scenario,
        projection_rates.metric,
        projection_months_ahead.months_ahead,
        {{ projection_bounded_growth(
            'projection_rates.growth_trend_level + projection_rates.growth_trend_slope * '
            ~ projection_trend_months('projection_months_ahead.months_ahead'),
            'projection_rates.growth_rate_shift',
            'projection_rates.growth_multiplier'
        ) }} as growth_rate
    from {{ rates }} as projection_rates
    cross join projection_months_ahead
    where projection_months_ahead.months_ahead > 0
),

projection_growth_path as (
    select
        origin_kind,
        segment,
        scenario,
        metric,
        months_ahead,
        exp(sum(ln(1 + growth_rate)) over (
            partition by origin_kind, segment, scenario, metric
            order by months_ahead
            rows between unbounded preceding and current row
        )) as growth_factor
    from projection_growth_steps
    union all
    select distinct
        origin_kind,
        segment,
        scenario,
        metric,
        0 as months_ahead,
        cast(1 as double) as growth_factor
    from {{ rates }}
)
{%- endmacro %}
