-- Grain: one row per account per month with usage.
-- Cost to serve: input and output tokens of each LLM tier x that tier's cost per 1,000
-- tokens in force in the month, from the analyst's price list (seed model_costs, dated by
-- int_model_costs_in_force). A tier without a price in force makes the month's cost unknown
-- (null), never zero; assert_every_usage_model_tier_has_a_cost names it.
with

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

model_costs as (select * from {{ ref('int_model_costs_in_force') }}),

tiers_by_account_month as (
    select
        account_id,
        month,
        model,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens
    from usage_rolled_up
    group by account_id, month, model
),

-- Exact decimal arithmetic, so every engine sums the tiers to the same value and rounds it to the
-- same fourth decimal: tokens x cost per 1,000 is exact in decimal(36, 8); the tiers' sum is
-- scaled to one token by multiplying by 0.001 (a decimal division would be a double on DuckDB,
-- whose sum in another order could round the other way).
costed as (
    select
        tiers_by_account_month.account_id,
        tiers_by_account_month.month,
        tiers_by_account_month.model,
        cast(tiers_by_account_month.input_tokens as decimal(18, 0))
        * model_costs.input_usd_per_1k_tokens
        + cast(tiers_by_account_month.output_tokens as decimal(18, 0))
        * model_costs.output_usd_per_1k_tokens
            as cost_usd_per_1k
    from tiers_by_account_month
    left join model_costs
        on {{ model_cost_in_force(
            'model_costs', 'tiers_by_account_month.model', 'tiers_by_account_month.month'
        ) }}
),

final as (
    select
        account_id,
        month,
        cast(
            case
                when count(cost_usd_per_1k) = count(*)
                    then cast(sum(cost_usd_per_1k) as decimal(28, 8))
                        * cast(0.001 as decimal(4, 3))
            end as decimal(18, 4)
        ) as cost_to_serve_usd
    from costed
    group by account_id, month
)

select * from final
