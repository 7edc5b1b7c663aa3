{#- The usage events summed per account, month, actor type, feature and LLM tier: every measure
    downstream reads this rollup, never the events. Distinct active users are not additive across
    these rows; they come from int_usage_events_rolled_up_to_actor_month, which reads the same
    events per actor. Two small groupings, not one per actor x feature x tier: that grain holds
    about three events per row, so rolling up to it costs more than a pass over the export files.
    Incremental by month (delete+insert on `month`): a run rebuilds, from all of their events, only
    the months that rows loaded since the last build belong to (macro usage_rollup_touched_months);
    late events (up to 35 days) touch earlier months that way. `dbt build --full-refresh` gives the
    same rows. -#}
-- depends_on: {{ ref('int_usage_event_deliveries_counted_to_batch_month') }}
{%- set touched_months = usage_rollup_touched_months() %}

with

usage_events as (select * from {{ ref('stg_telemetry__usage_events') }}),

events_in_scope as (
    select
        account_id,
        {{ month_of('occurred_at') }} as month,
        actor_type,
        feature,
        model,
        tasks,
        case when outcome = 'resolved' then tasks else 0 end as resolved_tasks,
        input_tokens,
        output_tokens,
        occurred_at,
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
    group by account_id, month, actor_type, feature, model
),

typed as (
    select
        account_id,
        month,
        actor_type,
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
