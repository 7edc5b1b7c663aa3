-- Grain: one row per month x segment x feature x model tier x actor type (agent or human), for
-- every combination with usage. Which features and LLM tiers agents use against humans over time
-- (the Value shift page). Read from the usage rollup, never from the usage events.
with

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

model_costs as (select * from {{ ref('int_model_costs_in_force') }}),

export_timestamps as (select * from {{ ref('int_export_timestamps_aggregated') }}),

-- an account's segment is its current segment, as in fct_account_month; the months of
-- fct_account_month too, up to the last complete month (docs block months)
usage_with_segment as (
    select
        usage_rolled_up.*,
        accounts.segment
    from usage_rolled_up
    inner join accounts
        on usage_rolled_up.account_id = accounts.account_id
    inner join export_timestamps
        on usage_rolled_up.month <= export_timestamps.as_of_month
),

aggregated as (
    select
        month,
        segment,
        feature,
        model as model_tier,
        actor_type,
        count(distinct account_id) as active_accounts,
        sum(usage_events) as usage_events,
        sum(tasks) as tasks,
        sum(resolved_tasks) as resolved_tasks,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens
    from usage_with_segment
    group by month, segment, feature, model, actor_type
),

-- A tier missing from the analyst's cost list leaves the cost unknown (null), never zero.
costed as (
    select
        aggregated.*,
        cast(
            aggregated.input_tokens * model_costs.input_usd_per_1k_tokens as double
        ) / 1000
        + cast(
            aggregated.output_tokens * model_costs.output_usd_per_1k_tokens as double
        ) / 1000
            as cost_to_serve_usd
    from aggregated
    left join model_costs
        on {{ model_cost_in_force('model_costs', 'aggregated.model_tier', 'aggregated.month') }}
),

final as (
    select
        cast(month as {{ dbt.type_string() }}) || '|' || segment || '|' || feature || '|'
        || model_tier || '|' || actor_type as usage_mix_id,
        month,
        segment,
        feature,
        model_tier,
        actor_type,
        cast(active_accounts as {{ dbt.type_bigint() }}) as active_accounts,
        cast(usage_events as {{ dbt.type_bigint() }}) as usage_events,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(resolved_tasks as {{ dbt.type_bigint() }}) as resolved_tasks,
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        cast(input_tokens + output_tokens as {{ dbt.type_bigint() }}) as tokens,
        {{ double_to_decimal('cost_to_serve_usd', 18, 4) }} as cost_to_serve_usd
    from costed
)

select * from final
