-- Grain: one row per usage event (event_id). A view: up to ~100M rows, read once by the rollup.
with

source as (select * from {{ source('telemetry', 'usage_events') }}),

renamed as (
    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(actor_type as {{ dbt.type_string() }}) as actor_type,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(agent_id as {{ dbt.type_string() }}) as agent_id,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(model as {{ dbt.type_string() }}) as model,
        -- The export contract's defaults for empty integers: 0 tokens, 1 task (the loader applies
        -- them too)
        cast(coalesce(input_tokens, 0) as {{ dbt.type_bigint() }}) as input_tokens,
        cast(coalesce(output_tokens, 0) as {{ dbt.type_bigint() }}) as output_tokens,
        cast(coalesce(tasks, 1) as {{ dbt.type_bigint() }}) as tasks,
        cast(outcome as {{ dbt.type_string() }}) as outcome,
        {{ lineage_columns() }}
    from source
),

{% if var('deduplicate_usage_events') %}
-- occurred_at joins event_id in the partition so that a filter on occurred_at (the rollup's
-- months) is pushed below the window and only those months are de-duplicated; a re-delivered
-- event carries the same occurred_at, and the loader keeps one row per event_id anyway.
deduplicated as (
    {{ one_row_per_key('renamed', ['event_id', 'occurred_at'], keep='first_delivery') }}
)
{% else %}
deduplicated as (select * from renamed)
{% endif %}

select * from deduplicated
