-- Grain: one row per origin x segment x price model x scenario x months ahead
-- (origin_kind, segment, price_model_id, scenario, months_ahead).
-- The projection engine (docs block revenue_projection). Every projected account-month of
-- int_projection_usage_grown is rated by the one rating engine (macro rate_usage) under every
-- model of the price book, as a month of its own (a prepaid pool's rollover between projected
-- months is not modelled). The account's bill k months ahead is its bill at the origin plus what
-- the rating adds or removes from there:
--     revenue_k = greatest(base_usd + rated_k - rated_0, 0)
-- so month 0 is exactly the real (current model) or shadow (proposal) bill, and nothing moves when
-- nothing grows. It then counts with the probability that the account is still a customer:
--     survival_k = (1 - monthly churn)^k x (1 - projection_shock_churn if shocked at the switch
--                  and k >= 1)
-- and is summed by segment. The backtest runs the middle scenario only, under the current model.
{%- set shock_churn = var('projection_shock_churn') %}
with

bases as (select * from {{ ref('int_projection_bases') }}),

usage_grown as (select * from {{ ref('int_projection_usage_grown') }}),

rated as (
    {{ rate_usage(
        "(select rating_key as account_id, origin_month as period, metric, quantity, events from "
            ~ ref('int_projection_usage_grown') ~ ")",
        ref('price_components'),
        ref('price_tiers'),
    ) | indent(4) }}
),

rated_by_key as (
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from rated
    group by account_id, price_model_id
),

projection_keys as (
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

account_projection as (
    select
        projection_keys.origin_kind,
        projection_keys.origin_month,
        projection_keys.segment,
        bases.price_model_id,
        projection_keys.scenario,
        projection_keys.months_ahead,
        projection_keys.account_id,
        greatest(
            bases.base_usd + rated_by_key.rated_usd - origin_rated.rated_usd, 0
        ) as revenue_usd,
        power(1 - projection_keys.monthly_churn_rate, projection_keys.months_ahead)
        * case
            when bases.is_shocked_at_switch and projection_keys.months_ahead >= 1
                then 1 - {{ shock_churn }}
            else 1
        end as survival
    from projection_keys
    inner join bases
        on projection_keys.origin_kind = bases.origin_kind
            and projection_keys.account_id = bases.account_id
    inner join rated_by_key
        on projection_keys.rating_key = rated_by_key.rating_key
            and bases.price_model_id = rated_by_key.price_model_id
    inner join projection_keys as origin_keys
        on projection_keys.origin_kind = origin_keys.origin_kind
            and projection_keys.account_id = origin_keys.account_id
            and projection_keys.scenario = origin_keys.scenario
            and origin_keys.months_ahead = 0
    inner join rated_by_key as origin_rated
        on origin_keys.rating_key = origin_rated.rating_key
            and bases.price_model_id = origin_rated.price_model_id
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
        cast(sum(survival * revenue_usd) as decimal(18, 4)) as projected_revenue_usd,
        round(sum(survival), 10) as projected_accounts,
        count(*) as base_accounts
    from account_projection
    group by origin_kind, origin_month, segment, price_model_id, scenario, months_ahead
)

select * from final
