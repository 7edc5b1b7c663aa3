{#- The revenue projection (DOMAIN.md "Projection", docs block revenue_projection), written once.

    The projection's models call these macros over their refs with the vars in force;
    rpt_projection_sql publishes the same macros compiled over placeholder relations with the
    editable assumptions (projection_assumption_names) as named parameters `$<setting name>`
    bound as doubles, so the Projection page re-projects an edited assumption with this very SQL
    and the build's rating SQL (rpt_rating_sql), never a second engine. Each macro writes common
    table expressions (no `with`, no trailing comma) ending in the one named below; a model splices
    them into its own `with`, a caller without one wraps them: `with <these> select * from <last>`.

    projection_rates_applied(measured)            -> projection_rates
    projection_usage_growth(rates, bases, origins, quantities, components) -> projection_usage_grown
    projection_rated_lines(usage_grown, origin_kind, components, tiers) -> projection_rated_lines
    projection_revenue_by_segment(usage_grown, rated_projection, rated_backtest, bases, origins)
                                                  -> projection_by_segment
    projection_backtest_results(by_segment, bases, actuals)  -> projection_backtest_rows
    revenue_projection_results(by_segment, backtest, price_models) -> revenue_projection_rows -#}


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
{% macro projection_rates_applied(measured, as_parameters=false) -%}
{%- set spread = projection_assumption('projection_scenario_spread', as_parameters) -%}
{%- set churn_multiplier = projection_assumption('projection_churn_multiplier', as_parameters) -%}
{%- set growth_multiplier = projection_assumption('projection_growth_multiplier', as_parameters) -%}
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
),

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


{#- The projection engine: the rated projected account-months (`rated_projection`, the rating
    engine's lines over usage_grown's projection keys under every model; `rated_backtest`, over
    the backtest keys under the models it compares, the current) become each account's bill k
    months ahead: its bill at the origin plus what the rating adds or removes from there,
        revenue_k = greatest(base_usd + rated_k - rated_0, least(base_usd, 0))
    so month 0 is exactly the real (current model) or shadow (proposal) bill, and nothing moves
    when nothing grows; months between rated ones are interpolated, geometrically (exact for a bill
    proportional to usage), linearly where either is 0. It counts with the probability that the
    account is still a customer:
        survival_k = (1 - monthly churn)^k x (1 - projection_shock_churn if shocked at the switch
                     and k >= 1)
    and is summed by segment: one row per origin x segment x model x rate set x months ahead. -#}
{% macro projection_revenue_by_segment(
    usage_grown, rated_projection, rated_backtest, bases, origins, as_parameters=false
) -%}
{%- set shock_churn = projection_assumption('projection_shock_churn', as_parameters) -%}
projection_months as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series((projection_longest_horizon() | int) + 1) }}) as month_offsets
),

projection_rated_by_key as (
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from {{ rated_projection }}
    group by account_id, price_model_id
    union all
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from {{ rated_backtest }}
    group by account_id, price_model_id
),

projection_rated_keys as (
    select distinct
        rating_key,
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate,
        months_ahead
    from {{ usage_grown }}
),

projection_scenario_names as (
    select distinct
        origin_kind,
        scenario
    from projection_rated_keys
),

-- every rated month of an account under a model; month 0 (rated once) stands for every scenario
projection_rated_points as (
    select
        projection_rated_keys.origin_kind,
        projection_rated_keys.account_id,
        projection_rated_by_key.price_model_id,
        projection_scenario_names.scenario,
        projection_rated_keys.months_ahead,
        projection_rated_by_key.rated_usd
    from projection_rated_keys
    inner join projection_rated_by_key
        on projection_rated_keys.rating_key = projection_rated_by_key.rating_key
    inner join projection_scenario_names
        on projection_rated_keys.origin_kind = projection_scenario_names.origin_kind
            and (
                projection_rated_keys.scenario = projection_scenario_names.scenario
                or projection_rated_keys.months_ahead = 0
            )
),

projection_account_scenarios as (
    select distinct
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate
    from projection_rated_keys
    where months_ahead > 0 or origin_kind = 'backtest'
),

-- for every month of each origin, the rated months on either side of it (the same for everyone)
projection_rated_months as (
    select distinct
        origin_kind,
        months_ahead
    from projection_rated_keys
),

projection_brackets as (
    select
        projection_origins.origin_kind,
        projection_months.months_ahead,
        max(below.months_ahead) as lower_month,
        min(above.months_ahead) as upper_month
    from {{ origins }} as projection_origins
    inner join projection_months
        on projection_origins.horizon_months >= projection_months.months_ahead
    inner join projection_rated_months as below
        on projection_origins.origin_kind = below.origin_kind
            and projection_months.months_ahead >= below.months_ahead
    inner join projection_rated_months as above
        on projection_origins.origin_kind = above.origin_kind
            and projection_months.months_ahead <= above.months_ahead
    group by projection_origins.origin_kind, projection_months.months_ahead
),

-- each rated month of an origin and the rated month after it (the same for every account)
projection_rated_month_pairs as (
    select
        rated.origin_kind,
        rated.months_ahead,
        min(later.months_ahead) as next_month
    from projection_rated_months as rated
    left join projection_rated_months as later
        on rated.origin_kind = later.origin_kind and later.months_ahead > rated.months_ahead
    group by rated.origin_kind, rated.months_ahead
),

-- each rated point with the next rated month's bill and month 0's (the origin) of the same
-- account, model and scenario: two joins over the rated points, where a join per neighbour
-- (lower, upper, origin) over every projected month cost three times as many rows (issue 11)
projection_rated_spans as (
    select
        points.origin_kind,
        points.account_id,
        points.price_model_id,
        points.scenario,
        points.months_ahead as lower_month,
        points.rated_usd as lower_usd,
        next_points.months_ahead as next_month,
        next_points.rated_usd as next_usd,
        origin_points.rated_usd as origin_usd
    from projection_rated_points as points
    inner join projection_rated_month_pairs as pairs
        on points.origin_kind = pairs.origin_kind and points.months_ahead = pairs.months_ahead
    inner join projection_rated_points as origin_points
        on points.origin_kind = origin_points.origin_kind
            and points.account_id = origin_points.account_id
            and points.price_model_id = origin_points.price_model_id
            and points.scenario = origin_points.scenario
            and origin_points.months_ahead = 0
    left join projection_rated_points as next_points
        on points.origin_kind = next_points.origin_kind
            and points.account_id = next_points.account_id
            and points.price_model_id = next_points.price_model_id
            and points.scenario = next_points.scenario
            and pairs.next_month = next_points.months_ahead
),

-- the rated months are the same for every account of an origin (projection_rated_months), so a
-- span's next rated month is the bracket's upper month; at a rated month both are that month
projection_account_months as (
    select
        projection_account_scenarios.origin_kind,
        projection_account_scenarios.origin_month,
        projection_account_scenarios.account_id,
        projection_account_scenarios.segment,
        projection_account_scenarios.scenario,
        projection_account_scenarios.monthly_churn_rate,
        projection_brackets.months_ahead,
        projection_rated_spans.price_model_id,
        projection_brackets.lower_month,
        projection_brackets.upper_month,
        projection_rated_spans.lower_usd,
        case
            when projection_brackets.upper_month = projection_brackets.lower_month
                then projection_rated_spans.lower_usd
            else projection_rated_spans.next_usd
        end as upper_usd,
        projection_rated_spans.origin_usd
    from projection_account_scenarios
    inner join projection_brackets
        on projection_account_scenarios.origin_kind = projection_brackets.origin_kind
    inner join projection_rated_spans
        on projection_account_scenarios.origin_kind = projection_rated_spans.origin_kind
            and projection_account_scenarios.account_id = projection_rated_spans.account_id
            and projection_account_scenarios.scenario = projection_rated_spans.scenario
            and projection_brackets.lower_month = projection_rated_spans.lower_month
    -- as the joins did: a month whose upper rated month was not rated is not projected
    where projection_brackets.upper_month = projection_brackets.lower_month
        or projection_rated_spans.next_month = projection_brackets.upper_month
),

projection_weighted_months as (
    select
        *,
        case
            when upper_month = lower_month then 0
            else cast(months_ahead - lower_month as double) / (upper_month - lower_month)
        end as interpolation_weight
    from projection_account_months
),

projection_interpolated as (
    select
        *,
        case
            when upper_month = lower_month then lower_usd
            when lower_usd > 0 and upper_usd > 0
                then lower_usd * power(cast(upper_usd as double) / lower_usd, interpolation_weight)
            else lower_usd + (upper_usd - lower_usd) * interpolation_weight
        end as interpolated_usd
    from projection_weighted_months
),

projection_account_revenue as (
    select
        projection_interpolated.origin_kind,
        projection_interpolated.origin_month,
        projection_interpolated.segment,
        projection_interpolated.price_model_id,
        projection_interpolated.scenario,
        projection_interpolated.months_ahead,
        projection_interpolated.account_id,
        -- never below 0, nor below month 0 when the month was a net credit (a proration credit
        -- larger than the charges), so that month 0 is still exactly the bill
        greatest(
            projection_bases.base_usd + projection_interpolated.interpolated_usd
            - projection_interpolated.origin_usd,
            least(projection_bases.base_usd, 0)
        ) as revenue_usd,
        power(1 - projection_interpolated.monthly_churn_rate, projection_interpolated.months_ahead)
        * case
            when projection_bases.is_shocked_at_switch and projection_interpolated.months_ahead >= 1
                then 1 - {{ shock_churn }}
            else 1
        end as survival
    from projection_interpolated
    inner join {{ bases }} as projection_bases
        on projection_interpolated.origin_kind = projection_bases.origin_kind
            and projection_interpolated.account_id = projection_bases.account_id
            and projection_interpolated.price_model_id = projection_bases.price_model_id
),

projection_by_segment as (
    select
        origin_kind,
        origin_month,
        segment,
        price_model_id,
        scenario,
        months_ahead,
        cast({{ dbt.dateadd('month', 'months_ahead', 'origin_month') }} as date) as month,
        -- rounded, so that equal projections (month 0 of every scenario) compare equal
        -- each term as an exact decimal before the sum: a sum of doubles depends on the order
        -- DuckDB's threads add them in, and a refresh with nothing new must give the same rows
        cast(sum(cast(survival * revenue_usd as decimal(38, 10))) as decimal(18, 4))
            as projected_revenue_usd,
        cast(round(sum(cast(survival as decimal(38, 12))), 10) as double) as projected_accounts,
        count(*) as base_accounts
    from projection_account_revenue
    group by origin_kind, origin_month, segment, price_model_id, scenario, months_ahead
)
{%- endmacro %}


{#- The projection's track record on the MRR basis (docs block projection_backtest_mape): the
    backtest origin's middle scenario under the current model beside the MRR that same base
    actually had (`actuals`: account_id, segment, month, mrr_usd; fct_account_month) in each month
    since; an account that left counts 0, new customers are left out on both sides. Beside it two
    naive forecasts of the same base on the same months: `flat` (month 0 carried forward) and
    `trailing NRR` (the segment's net revenue retention over the projection_history_months before
    the origin, or the months there are, applied month by month). Each error is the mean, over
    months 1 .. with an actual above 0, of |forecast - actual| / actual. `all` is the sum of the
    segments, forecasts and actuals alike. One row per segment (and `all`) x months ahead,
    fct_revenue_projection_backtest's. -#}
{% macro projection_backtest_results(by_segment, bases, actuals) -%}
{%- set history = var('projection_history_months') | int -%}
projection_backtest_projected as (
    select
        segment,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd
    from {{ by_segment }}
    where origin_kind = 'backtest'
        and scenario = 'middle'
),

projection_backtest_bases as (
    select
        origin_month,
        account_id,
        segment,
        base_usd
    from {{ bases }}
    where origin_kind = 'backtest'
),

projection_backtest_actuals as (
    select
        projection_backtest_bases.segment,
        backtest_actuals.month,
        sum(coalesce(backtest_actuals.mrr_usd, 0)) as actual_revenue_usd
    from projection_backtest_bases
    inner join {{ actuals }} as backtest_actuals
        on projection_backtest_bases.account_id = backtest_actuals.account_id
            and projection_backtest_bases.origin_month <= backtest_actuals.month
    group by projection_backtest_bases.segment, backtest_actuals.month
),

projection_backtest_start as (
    select
        sum(base_usd) as base_usd,
        segment
    from projection_backtest_bases
    group by segment
),

-- where the trailing NRR's window starts: projection_history_months before the origin, or the
-- first month of data
projection_backtest_origin as (
    select max(origin_month) as origin_month
    from projection_backtest_bases
),

projection_backtest_first_month as (
    select min(month) as first_month
    from {{ actuals }}
),

projection_backtest_nrr_window as (
    select
        projection_backtest_origin.origin_month,
        greatest(
            projection_backtest_first_month.first_month,
            cast({{ dbt.dateadd("month", -history, "projection_backtest_origin.origin_month") }} as date)
        ) as window_start
    from projection_backtest_origin
    cross join projection_backtest_first_month
),

projection_backtest_nrr_accounts as (
    select
        window_start_month.segment,
        window_start_month.mrr_usd as start_mrr_usd,
        coalesce(origin_month.mrr_usd, 0) as origin_mrr_usd
    from {{ actuals }} as window_start_month
    inner join projection_backtest_nrr_window
        on window_start_month.month = projection_backtest_nrr_window.window_start
    left join {{ actuals }} as origin_month
        on window_start_month.account_id = origin_month.account_id
            and origin_month.month = projection_backtest_nrr_window.origin_month
    where window_start_month.mrr_usd > 0
),

projection_backtest_nrr as (
    select
        projection_backtest_nrr_accounts.segment,
        cast(sum(projection_backtest_nrr_accounts.origin_mrr_usd) as double)
        / sum(projection_backtest_nrr_accounts.start_mrr_usd) as trailing_nrr,
        max({{ dbt.datediff(
            'projection_backtest_nrr_window.window_start',
            'projection_backtest_nrr_window.origin_month',
            'month'
        ) }}) as nrr_months
    from projection_backtest_nrr_accounts
    cross join projection_backtest_nrr_window
    group by projection_backtest_nrr_accounts.segment
),

projection_backtest_by_segment as (
    select
        projection_backtest_projected.segment,
        projection_backtest_projected.months_ahead,
        projection_backtest_projected.month,
        projection_backtest_projected.origin_month,
        projection_backtest_projected.projected_revenue_usd,
        coalesce(projection_backtest_actuals.actual_revenue_usd, 0) as actual_revenue_usd,
        projection_backtest_start.base_usd as flat_revenue_usd,
        projection_backtest_start.base_usd * case
            when projection_backtest_nrr.nrr_months > 0 and projection_backtest_nrr.trailing_nrr > 0
                then power(
                    projection_backtest_nrr.trailing_nrr,
                    cast(projection_backtest_projected.months_ahead as double)
                    / projection_backtest_nrr.nrr_months
                )
            else 1
        end as trailing_nrr_revenue_usd,
        projection_backtest_nrr.trailing_nrr
    from projection_backtest_projected
    inner join projection_backtest_start
        on projection_backtest_projected.segment = projection_backtest_start.segment
    left join projection_backtest_actuals
        on projection_backtest_projected.segment = projection_backtest_actuals.segment
            and projection_backtest_projected.month = projection_backtest_actuals.month
    left join projection_backtest_nrr
        on projection_backtest_projected.segment = projection_backtest_nrr.segment
),

projection_backtest_with_all as (
    select
        segment,
        months_ahead,
        month,
        origin_month,
        cast(projected_revenue_usd as decimal(38, 10)) as projected_revenue_usd,
        cast(actual_revenue_usd as decimal(38, 10)) as actual_revenue_usd,
        cast(flat_revenue_usd as decimal(38, 10)) as flat_revenue_usd,
        cast(trailing_nrr_revenue_usd as decimal(38, 10)) as trailing_nrr_revenue_usd,
        trailing_nrr
    from projection_backtest_by_segment
    union all
    select
        'all' as segment,
        months_ahead,
        month,
        origin_month,
        -- decimals: a sum of doubles depends on the order threads add them in
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(cast(actual_revenue_usd as decimal(38, 10))) as actual_revenue_usd,
        sum(cast(flat_revenue_usd as decimal(38, 10))) as flat_revenue_usd,
        sum(cast(trailing_nrr_revenue_usd as decimal(38, 10))) as trailing_nrr_revenue_usd,
        cast(null as double) as trailing_nrr
    from projection_backtest_by_segment
    group by months_ahead, month, origin_month
),

projection_backtest_errors as (
    select
        *,
        {%- for forecast in ['projected', 'flat', 'trailing_nrr'] %}
        case
            when months_ahead >= 1 and actual_revenue_usd > 0
                then abs(
                    cast({{ forecast }}_revenue_usd as double) - cast(actual_revenue_usd as double)
                ) / cast(actual_revenue_usd as double)
        end as {{ 'absolute' if forecast == 'projected' else forecast }}_percentage_error
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from projection_backtest_with_all
),

projection_backtest_rows as (
    select
        segment || '|' || cast(months_ahead as {{ dbt.type_string() }}) as backtest_id,
        segment,
        cast(months_ahead as integer) as months_ahead,
        month,
        origin_month as backtest_origin_month,
        cast(projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(actual_revenue_usd as decimal(18, 4)) as actual_revenue_usd,
        cast(flat_revenue_usd as decimal(18, 4)) as flat_revenue_usd,
        cast(trailing_nrr_revenue_usd as decimal(18, 4)) as trailing_nrr_revenue_usd,
        cast(round(trailing_nrr, 10) as double) as trailing_nrr,
        cast(absolute_percentage_error as double) as absolute_percentage_error,
        cast(round(avg(absolute_percentage_error) over (partition by segment), 12) as double)
            as backtest_mape,
        cast(round(avg(flat_percentage_error) over (partition by segment), 12) as double)
            as flat_mape,
        cast(round(avg(trailing_nrr_percentage_error) over (partition by segment), 12) as double)
            as trailing_nrr_mape
    from projection_backtest_errors
)
{%- endmacro %}


{#- fct_revenue_projection's rows (docs block projection_scenario): the projection origin's three
    rate sets become the scenarios, for each segment, model and month `worst` the lowest of the
    three projections, `middle` the median and `best` the highest (rate_scenario says which set it
    was); `all` is the sum of the segments; backtest_mape is the current model's error over the
    backtest (`backtest`: projection_backtest_rows), carried by the proposals. `price_models`:
    price_model_id, is_current_model. -#}
{% macro revenue_projection_results(by_segment, backtest, price_models) -%}
projection_ordered_by_segment as (
    select
        segment,
        price_model_id,
        scenario as rate_scenario,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd,
        projected_accounts,
        base_accounts,
        row_number() over (
            partition by segment, price_model_id, months_ahead
            order by
                projected_revenue_usd asc,
                case scenario when 'worst' then 1 when 'middle' then 2 else 3 end asc
        ) as scenario_position
    from {{ by_segment }}
    where origin_kind = 'projection'
),

projection_ordered as (
    select
        *,
        case scenario_position when 1 then 'worst' when 2 then 'middle' else 'best' end
            as scenario
    from projection_ordered_by_segment
),

projection_with_all as (
    select
        segment,
        price_model_id,
        scenario,
        rate_scenario,
        months_ahead,
        month,
        origin_month,
        projected_revenue_usd,
        projected_accounts,
        base_accounts
    from projection_ordered
    union all
    select
        'all' as segment,
        price_model_id,
        scenario,
        case when count(distinct rate_scenario) = 1 then max(rate_scenario) else 'mixed' end
            as rate_scenario,
        months_ahead,
        month,
        origin_month,
        -- summed as decimals: a sum of doubles depends on the order DuckDB's threads add them in,
        -- and a refresh with nothing new must give the same rows
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(cast(projected_accounts as decimal(38, 10))) as projected_accounts,
        sum(base_accounts) as base_accounts
    from projection_ordered
    group by price_model_id, scenario, months_ahead, month, origin_month
),

projection_mape as (
    select
        segment,
        max(backtest_mape) as backtest_mape,
        max(flat_mape) as flat_mape,
        max(trailing_nrr_mape) as trailing_nrr_mape,
        max(backtest_origin_month) as backtest_origin_month
    from {{ backtest }}
    group by segment
),

revenue_projection_rows as (
    select
        projection_with_all.segment || '|' || projection_with_all.price_model_id || '|'
        || projection_with_all.scenario || '|'
        || cast(projection_with_all.months_ahead as {{ dbt.type_string() }})
            as revenue_projection_id,
        projection_with_all.segment,
        projection_with_all.price_model_id,
        projection_with_all.scenario,
        cast(projection_with_all.months_ahead as integer) as months_ahead,
        projection_with_all.month,
        projection_with_all.origin_month as as_of_month,
        projection_price_models.is_current_model,
        cast(projection_with_all.projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(projection_with_all.projected_accounts as double) as projected_accounts,
        cast(projection_with_all.base_accounts as {{ dbt.type_bigint() }}) as base_accounts,
        projection_with_all.rate_scenario,
        projection_mape.backtest_mape,
        not projection_price_models.is_current_model as is_backtest_carried,
        projection_mape.backtest_origin_month,
        projection_mape.flat_mape,
        projection_mape.trailing_nrr_mape
    from projection_with_all
    inner join {{ price_models }} as projection_price_models
        on projection_with_all.price_model_id = projection_price_models.price_model_id
    left join projection_mape
        on projection_with_all.segment = projection_mape.segment
)
{%- endmacro %}


{#- What the rating engine rates for an origin: usage_grown's keys as rate_usage's accounts, each a
    month of its own (a relation, in parentheses). -#}
{% macro projection_rating_usage(usage_grown, origin_kind) -%}
(
    select
        rating_key as account_id,
        origin_month as period,
        metric,
        quantity,
        events
    from {{ usage_grown }}
    where origin_kind = '{{ origin_kind }}'
)
{%- endmacro %}


{#- The rated lines of an origin's projected months: the rating engine (rate_usage) over
    projection_rating_usage's keys under `components` and `tiers`, cut to what
    projection_revenue_by_segment reads (account_id is the rating key). -#}
{% macro projection_rated_lines(usage_grown, origin_kind, components, tiers) -%}
projection_rated_lines as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        amount
    from (
        {{ rate_usage(
            projection_rating_usage(usage_grown, origin_kind), components, tiers
        ) | indent(8) }}
    ) as rated
)
{%- endmacro %}


{#- The price book the backtest is rated under: the models its bases are billed by (the current
    one), out of `components` (a relation, in parentheses). -#}
{% macro projection_backtest_components(components, bases) -%}
(
    select *
    from {{ components }}
    where price_model_id in (
        select price_model_id
        from {{ bases }}
        where origin_kind = 'backtest'
    )
)
{%- endmacro %}
