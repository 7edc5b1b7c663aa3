{#- The projection's assumptions: which settings a reader may edit in place, how each is read (a
    dbt var in a model, a named parameter in the SQL the Projection page runs), and the monthly
    rates every scenario applies. The projection's parts and how they chain: docs/architecture.md. -#}


{#- The settings a reader may edit in place (the page's assumptions), in the order shown. -#}
{% macro projection_assumption_names() -%}
    {{ return([
        'projection_churn_multiplier',
        'projection_growth_multiplier',
        'projection_scenario_spread',
        'projection_shock_churn',
    ]) }}
{%- endmacro %}


{#- One assumption: the var in force, or the named parameter of the same name; a double either way,
    so the build and the page compute in the same type. -#}
{% macro projection_assumption(name, as_parameters=false) -%}
    {%- if as_parameters -%}
        cast(${{ name }} as double)
    {%- else -%}
        cast({{ var(name) }} as double)
    {%- endif -%}
{%- endmacro %}


{#- The months ahead the longest origin runs (the projection or its backtest). -#}
{% macro projection_longest_horizon() -%}
    {{ [var('projection_horizon_months') | int, var('projection_backtest_months') | int] | max }}
{%- endmacro %}


{#- The monthly rates a projection applies, from the rates measured over the history window
    (`measured`: origin_kind, segment, metric, measured_churn_rate, churn_rate_error,
    measured_growth_rate, growth_rate_error; rounded to 10 decimals here, so a published copy of
    them gives the same rates). Scenarios move each rate by projection_scenario_spread standard
    errors (worst: churn up, growth down; best: the reverse); the multipliers scale a rate and its
    spread alike. Churn stays within 0..1, growth at or above -1. -#}
{% macro projection_rates_applied(measured, as_parameters=false, growth_multiplier=none) -%}
{%- set spread = projection_assumption('projection_scenario_spread', as_parameters) -%}
{%- set churn_multiplier = projection_assumption('projection_churn_multiplier', as_parameters) -%}
{#- growth_multiplier: an expression over `measured`'s row (projection_measured) instead of the
    multiplier in force (the edit's growth grid, fct_projection_edit_growth_grid) -#}
{%- if growth_multiplier is none -%}
{%- set growth_multiplier = projection_assumption('projection_growth_multiplier', as_parameters) -%}
{%- else -%}
{%- set growth_multiplier = 'cast(' ~ growth_multiplier ~ ' as double)' -%}
{%- endif -%}
projection_scenarios as (
    select
        cast('worst' as {{ dbt.type_string() }}) as scenario,
        1 as churn_direction,
        -1 as growth_direction
    union all
    select
        'middle' as scenario,
        0 as churn_direction,
        0 as growth_direction
    union all
    select
        'best' as scenario,
        -1 as churn_direction,
        1 as growth_direction
),

projection_measured as (
    select
        origin_kind,
        segment,
        metric,
        round(cast(measured_churn_rate as double), 10) as measured_churn_rate,
        round(cast(churn_rate_error as double), 10) as churn_rate_error,
        round(cast(measured_growth_rate as double), 10) as measured_growth_rate,
        round(cast(growth_rate_error as double), 10) as growth_rate_error,
        is_growth_trended,
        round(cast(growth_trend_level as double), 10) as growth_trend_level,
        round(cast(growth_trend_slope as double), 10) as growth_trend_slope
    from {{ measured }}
),

projection_rates as (
    select
        projection_measured.origin_kind,
        projection_measured.segment,
        projection_scenarios.scenario,
        projection_measured.metric,
        projection_measured.measured_churn_rate,
        projection_measured.churn_rate_error,
        projection_measured.measured_growth_rate,
        projection_measured.growth_rate_error,
        projection_measured.is_growth_trended,
        projection_measured.growth_trend_level,
        projection_measured.growth_trend_slope,
        round(least(
            greatest(
                {{ churn_multiplier }} * (
                    projection_measured.measured_churn_rate
                    + projection_scenarios.churn_direction * {{ spread }}
                    * projection_measured.churn_rate_error
                ),
                0
            ),
            {{ var('projection_max_monthly_churn') }}
        ), 10) as monthly_churn_rate,
        -- how far the scenario moves every month's growth rate, and the multiplier, applied
        -- month by month (projection_growth_path)
        round(
            projection_scenarios.growth_direction * {{ spread }}
            * projection_measured.growth_rate_error,
            10
        ) as growth_rate_shift,
        {{ growth_multiplier }} as growth_multiplier,
        {{ projection_bounded_growth(
            'projection_measured.growth_trend_level',
            'projection_scenarios.growth_direction * ' ~ spread
            ~ ' * projection_measured.growth_rate_error',
            growth_multiplier
        ) }} as monthly_growth_rate
    from projection_measured
    cross join projection_scenarios
)
{%- endmacro %}
