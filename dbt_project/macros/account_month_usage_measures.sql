{#
    The account-month usage measures, aggregated from the usage rollup
    (int_usage_events_rolled_up_to_account_month), written once for every model that needs them:
    fct_account_month publishes them, shadow billing rates them. Distinct users are not additive
    over those rows: account_month_active_users counts them on the per-actor rollup
    (int_usage_events_rolled_up_to_actor_month, one row per actor), never on the raw events.
#}
{% macro account_month_usage_measures(rollup) -%}
    sum({{ rollup }}.usage_events) as usage_events,
    sum({{ rollup }}.tasks) as tasks,
    sum(case when {{ rollup }}.actor_type = 'agent' then {{ rollup }}.tasks else 0 end)
        as agent_tasks,
    sum(case when {{ rollup }}.actor_type = 'human' then {{ rollup }}.tasks else 0 end)
        as human_tasks,
    sum({{ rollup }}.resolved_tasks) as resolved_tasks,
    sum({{ rollup }}.input_tokens) as input_tokens,
    sum({{ rollup }}.output_tokens) as output_tokens
{%- endmacro %}


{#- Distinct active human users per account-month, from the per-actor rollup
    (int_usage_events_rolled_up_to_actor_month; user_id is null for agents): a whole select, so
    the models that need them (fct_account_month, int_account_month_metrics_unpivoted) write it
    once, as the body of their `active_users_by_account_month` CTE. -#}
{% macro account_month_active_users(actor_rollup) -%}
    select
        {{ actor_rollup }}.account_id,
        {{ actor_rollup }}.month,
        count(distinct {{ actor_rollup }}.user_id) as active_users
    from {{ actor_rollup }}
    group by {{ actor_rollup }}.account_id, {{ actor_rollup }}.month
{%- endmacro %}
