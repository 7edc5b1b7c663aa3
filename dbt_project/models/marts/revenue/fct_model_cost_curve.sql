-- Grain: one row per LLM model tier (model).
-- How fast each tier's cost falls, measured on the analyst's price list: the first and the latest
-- dated price of the tier, each as the cost of 1,000 input plus 1,000 output tokens, and the
-- yearly decline between them, 1 - (latest / first)^(365.25 / days between); 0 for a tier with
-- fewer than two dated prices.
with

prices as (
    select * from {{ ref('int_model_costs_in_force') }}
    where effective_from is not null
),

ranked as (
    select
        model,
        effective_from,
        input_usd_per_1k_tokens + output_usd_per_1k_tokens as usd_per_1k_in_and_out,
        row_number() over (partition by model order by effective_from) as from_first,
        row_number() over (partition by model order by effective_from desc) as from_latest
    from prices
),

ends as (
    select
        model,
        count(*) as dated_prices,
        max(case when from_first = 1 then effective_from end) as first_effective_from,
        max(case when from_latest = 1 then effective_from end) as latest_effective_from,
        max(case when from_first = 1 then usd_per_1k_in_and_out end) as first_usd_per_1k,
        max(case when from_latest = 1 then usd_per_1k_in_and_out end) as latest_usd_per_1k
    from ranked
    group by model
),

measured as (
    select
        *,
        {{ double_quotient('latest_usd_per_1k', 'first_usd_per_1k') }} as price_ratio,
        {{ dbt.datediff('first_effective_from', 'latest_effective_from', 'day') }}
            as days_between
    from ends
    where dated_prices >= 2
        and first_usd_per_1k > 0
        and latest_effective_from > first_effective_from
),

tiers as (
    select distinct model from {{ ref('int_model_costs_in_force') }}
),

final as (
    select
        tiers.model,
        cast(coalesce(ends.dated_prices, 0) as {{ dbt.type_bigint() }}) as dated_prices,
        ends.first_effective_from,
        ends.latest_effective_from,
        cast(ends.first_usd_per_1k as decimal(18, 8)) as first_usd_per_1k_in_and_out,
        cast(ends.latest_usd_per_1k as decimal(18, 8)) as latest_usd_per_1k_in_and_out,
        -- rounded: the last bits of a power of doubles differ between engines
        cast(
            coalesce(round(1 - power(measured.price_ratio, 365.25 / measured.days_between), 12), 0)
            as double
        ) as yearly_decline
    from tiers
    left join ends
        on tiers.model = ends.model
    left join measured
        on tiers.model = measured.model
)

select * from final
