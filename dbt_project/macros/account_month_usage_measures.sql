{#
    The account-month usage measures, aggregated from the usage rollup
    (int_usage_events_rolled_up_to_account_month), written once for every model that needs them:
    fct_account_month publishes them, shadow billing rates them. Distinct users are counted on the
    rollup (a few rows per user), never on the raw events.
#}
{% macro account_month_usage_measures(rollup) -%}
    count(distinct {{ rollup }}.user_id) as active_users,
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
