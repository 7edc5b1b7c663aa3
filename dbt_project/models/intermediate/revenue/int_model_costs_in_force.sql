-- Grain: one row per model tier x price of the analyst's list (model, valid_from).
-- When each price of the list is in force: from its effective date until the tier's next price
-- takes over. A tier's first price also covers the months before its date (an empty date means
-- from the start), so no month of usage is left without a cost. Every cost to serve picks the
-- price in force in its month (macro model_cost_in_force).
with

model_costs as (select * from {{ ref('model_costs') }}),

ordered as (
    select
        model,
        effective_from,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens,
        row_number() over (
            partition by model order by coalesce(effective_from, cast('1900-01-01' as date))
        ) as price_number
    from model_costs
),

dated as (
    select
        model,
        effective_from,
        case
            when price_number = 1 then cast('1900-01-01' as date) else effective_from
        end as valid_from,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens
    from ordered
),

final as (
    select
        model,
        effective_from,
        valid_from,
        lead(valid_from) over (partition by model order by valid_from) as valid_to,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens
    from dated
)

select * from final
