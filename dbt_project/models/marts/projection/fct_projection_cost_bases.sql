-- Grain: one row per segment x price model x LLM model tier (segment, price_model_id, model).
-- What serving today's base costs at the projection's origin (the as-of month), per model tier,
-- split into input and output tokens: each base account's tokens of the month (the usage rollup)
-- x the tier's cost per 1,000 tokens in force that month (macro model_cost_in_force), as the
-- account-month's cost to serve counts them. Beside the whole base's cost, the part of the
-- accounts the price model would shock at the switch (fct_projection_bases), which the projection
-- loses with the extra churn projection_shock_churn. An input of the projected margin (docs block
-- projected_cost) and of the Projection page's re-projection (rpt_projection_sql).
with

bases as (select * from {{ ref('int_projection_bases') }}),

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

model_costs as (select * from {{ ref('int_model_costs_in_force') }}),

origin_bases as (
    select
        origin_month,
        account_id,
        segment,
        price_model_id,
        is_shocked_at_switch
    from bases
    where origin_kind = 'projection'
),

origin_accounts as (
    select distinct
        origin_month,
        account_id
    from origin_bases
),

tier_tokens as (
    select
        usage_rolled_up.account_id,
        usage_rolled_up.model,
        sum(usage_rolled_up.input_tokens) as input_tokens,
        sum(usage_rolled_up.output_tokens) as output_tokens
    from usage_rolled_up
    inner join origin_accounts
        on usage_rolled_up.account_id = origin_accounts.account_id
            and usage_rolled_up.month = origin_accounts.origin_month
    group by usage_rolled_up.account_id, usage_rolled_up.model
),

-- the same arithmetic as the account-month's cost to serve (int_usage_costed_to_account_month)
tier_costs as (
    select
        tier_tokens.account_id,
        tier_tokens.model,
        cast(
            cast(tier_tokens.input_tokens * model_costs.input_usd_per_1k_tokens as double) / 1000
            as decimal(38, 10)
        ) as input_cost_usd,
        cast(
            cast(tier_tokens.output_tokens * model_costs.output_usd_per_1k_tokens as double) / 1000
            as decimal(38, 10)
        ) as output_cost_usd
    from tier_tokens
    inner join origin_accounts
        on tier_tokens.account_id = origin_accounts.account_id
    inner join model_costs
        on {{ model_cost_in_force(
            'model_costs', 'tier_tokens.model', 'origin_accounts.origin_month'
        ) }}
),

based as (
    select
        origin_bases.segment,
        origin_bases.price_model_id,
        tier_costs.model,
        max(origin_bases.origin_month) as origin_month,
        count(*) as accounts,
        sum(tier_costs.input_cost_usd) as input_cost_usd,
        sum(tier_costs.output_cost_usd) as output_cost_usd,
        sum(case when origin_bases.is_shocked_at_switch then tier_costs.input_cost_usd else 0 end)
            as shocked_input_cost_usd,
        sum(case when origin_bases.is_shocked_at_switch then tier_costs.output_cost_usd else 0 end)
            as shocked_output_cost_usd
    from origin_bases
    inner join tier_costs
        on origin_bases.account_id = tier_costs.account_id
    group by origin_bases.segment, origin_bases.price_model_id, tier_costs.model
),

final as (
    select
        segment || '|' || price_model_id || '|' || model as projection_cost_base_id,
        segment,
        price_model_id,
        model,
        origin_month,
        cast(accounts as {{ dbt.type_bigint() }}) as accounts,
        -- exact decimals, as the cost to serve rounds them: a sum of doubles depends on the order
        -- the threads add them in
        cast(input_cost_usd as decimal(18, 6)) as input_cost_usd,
        cast(output_cost_usd as decimal(18, 6)) as output_cost_usd,
        cast(shocked_input_cost_usd as decimal(18, 6)) as shocked_input_cost_usd,
        cast(shocked_output_cost_usd as decimal(18, 6)) as shocked_output_cost_usd
    from based
)

select * from final
