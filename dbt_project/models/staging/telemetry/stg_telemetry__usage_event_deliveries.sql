-- Grain: one row per delivered usage row (refresh x file x row number), re-deliveries included:
-- the delivery log of the usage export, not its events (stg_telemetry__usage_events de-duplicates
-- those). A view without a window, so a filter on _loaded_at reaches the raw table's zone maps.
with

source as (select * from {{ source('telemetry', 'usage_events') }}),

renamed as (
    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
