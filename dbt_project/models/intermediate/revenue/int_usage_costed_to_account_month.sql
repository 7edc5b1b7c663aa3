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

-- The cost is a double, as DuckDB's decimal division always gave it: written out, Spark (which
-- divides decimals exactly) computes the same value, and rounds it to the same cents.
costed as (
    select
        tiers_by_account_month.account_id,
        tiers_by_account_month.month,
        tiers_by_account_month.model,
        cast(
            tiers_by_account_month.input_tokens * model_costs.input_usd_per_1k_tokens as double
        ) / 1000
        + cast(
            tiers_by_account_month.output_tokens * model_costs.output_usd_per_1k_tokens as double
        ) / 1000
            as cost_usd
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
            case when count(cost_usd) = count(*) then sum(cost_usd) end as decimal(18, 4)
        ) as cost_to_serve_usd
    from costed
    group by account_id, month
)

select * from final
