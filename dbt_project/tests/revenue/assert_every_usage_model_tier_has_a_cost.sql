-- Rule: every LLM tier that served usage has a price in force in each month it served (seed
-- model_costs, dated by int_model_costs_in_force), otherwise cost to serve and margin of those
-- months are unknown. Warns, naming the tiers, so a new
-- tier never blocks a refresh but is seen at once.
{{ config(severity='warn') }}
with

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

model_costs as (select * from {{ ref('int_model_costs_in_force') }}),

unpriced as (
    select
        usage_rolled_up.model,
        count(distinct usage_rolled_up.account_id) as accounts,
        min(usage_rolled_up.month) as first_month,
        max(usage_rolled_up.month) as last_month
    from usage_rolled_up
    left join model_costs
        on {{ model_cost_in_force('model_costs', 'usage_rolled_up.model', 'usage_rolled_up.month') }}
    where model_costs.model is null
    group by usage_rolled_up.model
)

select * from unpriced
