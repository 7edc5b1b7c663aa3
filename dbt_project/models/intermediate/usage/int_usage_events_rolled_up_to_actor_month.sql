{#- The usage events per account, month and actor: who was active, for distinct active users
    (a count over rows, never over events). Its own scan of the events, reading only the columns
    it needs, next to int_usage_events_rolled_up_to_account_month's: two small groupings cost a
    third of one grouping per actor x feature x tier.
    Incremental by month like that rollup, with the same detection (macro
    usage_rollup_touched_months): agents are kept so that its last_loaded_at follows every load. -#}
-- depends_on: {{ ref('int_usage_event_deliveries_counted_to_batch_month') }}
{%- set touched_months = usage_rollup_touched_months() %}

with

usage_events as (select * from {{ ref('stg_telemetry__usage_events') }}),

events_in_scope as (
    select
        account_id,
        {{ month_of('occurred_at') }} as month,
        actor_type,
        case when actor_type = 'human' then user_id else agent_id end as actor_id,
        tasks,
        _loaded_at
    from usage_events
    {% if is_incremental() -%}
    {{ usage_rollup_months_filter(touched_months) }}
    {%- endif %}
),

rolled_up as (
    select
        account_id,
        month,
        actor_type,
        actor_id,
        count(*) as usage_events,
        sum(tasks) as tasks,
        max(_loaded_at) as last_loaded_at
    from events_in_scope
    group by account_id, month, actor_type, actor_id
),

typed as (
    select
        account_id,
        month,
        actor_type,
        actor_id,
        -- only humans count as active users of seats; an agent's user_id would be a data error
        case when actor_type = 'human' then actor_id end as user_id,
        cast(usage_events as {{ dbt.type_bigint() }}) as usage_events,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        last_loaded_at
    from rolled_up
)

select * from typed
