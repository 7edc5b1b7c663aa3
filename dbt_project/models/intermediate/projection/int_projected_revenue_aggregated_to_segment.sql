-- Grain: one row per origin x segment x price model x scenario x months ahead
-- (origin_kind, segment, price_model_id, scenario, months_ahead).
-- The projection engine (docs block revenue_projection). Every projected account-month of
-- int_projection_usage_grown is rated by the one rating engine (macro rate_usage) under every
-- model of the price book (the backtest under the current one), as a month of its own (a prepaid
-- pool's rollover between projected months is not modelled); months between the rated ones
-- (projection_rated_months) are interpolated. The account's bill k months ahead is its bill at the
-- origin plus what the rating adds or removes from there:
--     revenue_k = greatest(base_usd + rated_k - rated_0, least(base_usd, 0))
-- so month 0 is exactly the real (current model) or shadow (proposal) bill, and nothing moves when
-- nothing grows. It then counts with the probability that the account is still a customer:
--     survival_k = (1 - monthly churn)^k x (1 - projection_shock_churn if shocked at the switch
--                  and k >= 1)
-- and is summed by segment. The backtest runs the middle scenario only, under the current model.
{%- set shock_churn = var('projection_shock_churn') %}
{%- set horizon = [
    var('projection_horizon_months') | int, var('projection_backtest_months') | int
] | max %}
with

origins as (select * from {{ ref('int_projection_origins') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

usage_grown as (select * from {{ ref('int_projection_usage_grown') }}),

months as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series(horizon + 1) }}) as month_offsets
),

-- the projection under every model; the backtest under the models it compares (the current)
rated_projection as (
    {{ rate_usage(
        "(select rating_key as account_id, origin_month as period, metric, quantity, events from "
            ~ ref('int_projection_usage_grown') ~ " where origin_kind = 'projection')",
        ref('price_components'),
        ref('price_tiers'),
    ) | indent(4) }}
),

rated_backtest as (
    {{ rate_usage(
        "(select rating_key as account_id, origin_month as period, metric, quantity, events from "
            ~ ref('int_projection_usage_grown') ~ " where origin_kind = 'backtest')",
        "(select * from " ~ ref('price_components') ~ " where price_model_id in (select "
            ~ "price_model_id from " ~ ref('int_projection_bases')
            ~ " where origin_kind = 'backtest'))",
        ref('price_tiers'),
    ) | indent(4) }}
),

rated_by_key as (
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from rated_projection
    group by account_id, price_model_id
    union all
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from rated_backtest
    group by account_id, price_model_id
),

rated_keys as (
    select distinct
        rating_key,
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate,
        months_ahead
    from usage_grown
),

scenario_names as (
    select distinct
        origin_kind,
        scenario
    from rated_keys
),

-- every rated month of an account under a model; month 0 (rated once) stands for every scenario
rated_points as (
    select
        rated_keys.origin_kind,
        rated_keys.account_id,
        rated_by_key.price_model_id,
        scenario_names.scenario,
        rated_keys.months_ahead,
        rated_by_key.rated_usd
    from rated_keys
    inner join rated_by_key
        on rated_keys.rating_key = rated_by_key.rating_key
    inner join scenario_names
        on rated_keys.origin_kind = scenario_names.origin_kind
            and (
                rated_keys.scenario = scenario_names.scenario or rated_keys.months_ahead = 0
            )
),

account_scenarios as (
    select distinct
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate
    from rated_keys
    where months_ahead > 0 or origin_kind = 'backtest'
),

-- for every month of each origin, the rated months on either side of it (the same for everyone)
rated_months as (
    select distinct
        origin_kind,
        months_ahead
    from rated_keys
),

brackets as (
    select
        origins.origin_kind,
        months.months_ahead,
        max(below.months_ahead) as lower_month,
        min(above.months_ahead) as upper_month
    from origins
    inner join months
        on origins.horizon_months >= months.months_ahead
    inner join rated_months as below
        on origins.origin_kind = below.origin_kind
            and months.months_ahead >= below.months_ahead
    inner join rated_months as above
        on origins.origin_kind = above.origin_kind
            and months.months_ahead <= above.months_ahead
    group by origins.origin_kind, months.months_ahead
),

account_months as (
    select
        account_scenarios.origin_kind,
        account_scenarios.origin_month,
        account_scenarios.account_id,
        account_scenarios.segment,
        account_scenarios.scenario,
        account_scenarios.monthly_churn_rate,
        brackets.months_ahead,
        lower_points.price_model_id,
        brackets.lower_month,
        brackets.upper_month,
        lower_points.rated_usd as lower_usd,
        upper_points.rated_usd as upper_usd
    from account_scenarios
    inner join brackets
        on account_scenarios.origin_kind = brackets.origin_kind
    inner join rated_points as lower_points
        on account_scenarios.origin_kind = lower_points.origin_kind
            and account_scenarios.account_id = lower_points.account_id
            and account_scenarios.scenario = lower_points.scenario
            and brackets.lower_month = lower_points.months_ahead
    inner join rated_points as upper_points
        on account_scenarios.origin_kind = upper_points.origin_kind
            and account_scenarios.account_id = upper_points.account_id
            and account_scenarios.scenario = upper_points.scenario
            and lower_points.price_model_id = upper_points.price_model_id
            and brackets.upper_month = upper_points.months_ahead
),

weighted_months as (
    select
        *,
        case
            when upper_month = lower_month then 0
            else cast(months_ahead - lower_month as double) / (upper_month - lower_month)
        end as interpolation_weight
    from account_months
),

-- geometric between two rated months (exact for a bill proportional to usage), linear where
-- either is 0
interpolated as (
    select
        *,
        case
            when upper_month = lower_month then lower_usd
            when lower_usd > 0 and upper_usd > 0
                then lower_usd * power(cast(upper_usd as double) / lower_usd, interpolation_weight)
            else lower_usd + (upper_usd - lower_usd) * interpolation_weight
        end as rated_usd
    from weighted_months
),

account_projection as (
    select
        interpolated.origin_kind,
        interpolated.origin_month,
        interpolated.segment,
        interpolated.price_model_id,
        interpolated.scenario,
        interpolated.months_ahead,
        interpolated.account_id,
        -- never below 0, nor below month 0 when the month was a net credit (a proration credit
        -- larger than the charges), so that month 0 is still exactly the bill
        greatest(
            bases.base_usd + interpolated.rated_usd - origin_points.rated_usd,
            least(bases.base_usd, 0)
        ) as revenue_usd,
        power(1 - interpolated.monthly_churn_rate, interpolated.months_ahead)
        * case
            when bases.is_shocked_at_switch and interpolated.months_ahead >= 1
                then 1 - {{ shock_churn }}
            else 1
        end as survival
    from interpolated
    inner join bases
        on interpolated.origin_kind = bases.origin_kind
            and interpolated.account_id = bases.account_id
            and interpolated.price_model_id = bases.price_model_id
    inner join rated_points as origin_points
        on interpolated.origin_kind = origin_points.origin_kind
            and interpolated.account_id = origin_points.account_id
            and interpolated.scenario = origin_points.scenario
            and interpolated.price_model_id = origin_points.price_model_id
            and origin_points.months_ahead = 0
),

final as (
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
    from account_projection
    group by origin_kind, origin_month, segment, price_model_id, scenario, months_ahead
)

select * from final
