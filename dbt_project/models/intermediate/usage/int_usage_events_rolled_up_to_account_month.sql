{#- The one scan of the usage events: everything downstream reads this rollup, never the events.
    Incremental by month (delete+insert on `month`): a run rebuilds, from all of their events, only
    the months that rows loaded since the last build belong to; late events (up to 35 days) touch
    earlier months that way. `dbt build --full-refresh` gives the same rows.
    The touched months are fetched first and written into the query as literals: a literal range
    on occurred_at reaches the raw table's zone maps and goes below staging's de-duplication
    window, where a subquery would not. -#}
-- depends_on: {{ ref('int_usage_event_deliveries_counted_to_batch_month') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail',
    )
}}

{#- var('usage_rollup_rebuild_months') (a list of 'YYYY-MM-DD') overrides the detection: to rebuild
    chosen months by hand, and for the unit test, whose fixtures run_query cannot see. -#}
{%- set touched_months = var('usage_rollup_rebuild_months', none) -%}
{%- if touched_months is none -%}
    {%- set touched_months = [] -%}
    {%- if execute and is_incremental() and load_relation(this) is not none -%}
        {%- set touched_months_query -%}
            select distinct cast(batches.month as {{ dbt.type_string() }}) as month
            from {{ ref('int_usage_event_deliveries_counted_to_batch_month') }} as batches
            where batches._loaded_at > (
                select coalesce(
                    max(last_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})
                )
                from {{ this }}
            )
            order by 1
        {%- endset -%}
        {%- set touched_months = run_query(touched_months_query).columns[0].values() | list -%}
    {%- endif -%}
{%- endif %}

with

usage_events as (select * from {{ ref('stg_telemetry__usage_events') }}),

events_in_scope as (
    select
        account_id,
        {{ month_of('occurred_at') }} as month,
        actor_type,
        case when actor_type = 'human' then user_id else agent_id end as actor_id,
        -- only humans count as active users of seats; an agent's user_id would be a data error
        case when actor_type = 'human' then user_id end as user_id,
        feature,
        model,
        tasks,
        case when outcome = 'resolved' then tasks else 0 end as resolved_tasks,
        input_tokens,
        output_tokens,
        occurred_at,
        _loaded_at
    from usage_events
    {% if is_incremental() %}
    {% if touched_months %}
    where occurred_at >= cast('{{ touched_months[0] }}' as {{ dbt.type_timestamp() }})
        and occurred_at < {{ dbt.dateadd('month', 1, "cast('" ~ touched_months[-1] ~ "' as "
            ~ dbt.type_timestamp() ~ ")") }}
        and {{ month_of('occurred_at') }} in (
            {%- for month in touched_months %}
            cast('{{ month }}' as date){{ "," if not loop.last }}
            {%- endfor %}
        )
    {% else %}
    -- nothing loaded since the last build: no month to rebuild
    where 1 = 0
    {% endif %}
    {% endif %}
),

rolled_up as (
    select
        account_id,
        month,
        actor_type,
        actor_id,
        user_id,
        feature,
        model,
        count(*) as usage_events,
        sum(tasks) as tasks,
        sum(resolved_tasks) as resolved_tasks,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        min(occurred_at) as first_occurred_at,
        max(occurred_at) as last_occurred_at,
        max(_loaded_at) as last_loaded_at
    from events_in_scope
    group by account_id, month, actor_type, actor_id, user_id, feature, model
),

typed as (
    select
        account_id,
        month,
        actor_type,
        actor_id,
        user_id,
        feature,
        model,
        cast(usage_events as {{ dbt.type_bigint() }}) as usage_events,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(resolved_tasks as {{ dbt.type_bigint() }}) as resolved_tasks,
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens,
        first_occurred_at,
        last_occurred_at,
        last_loaded_at
    from rolled_up
)

select * from typed
