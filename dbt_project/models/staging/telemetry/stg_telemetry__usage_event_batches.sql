-- Grain: one row per delivery batch (refresh x file x load time) x month of occurred_at.
-- Deliveries, not events: a re-delivered event counts again here. The rollup reads it to find the
-- months an incremental run must rebuild without scanning (and de-duplicating) every event; as a
-- view over a group by, a filter on _loaded_at reaches the raw table's zone maps.
with

source as (select * from {{ source('telemetry', 'usage_events') }}),

batches as (
    select
        cast(_refresh_id as {{ dbt.type_string() }}) as _refresh_id,
        cast(_file_name as {{ dbt.type_string() }}) as _file_name,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at,
        {{ month_of('occurred_at') }} as month,
        count(*) as delivered_rows,
        min(occurred_at) as first_occurred_at,
        max(occurred_at) as last_occurred_at
    from source
    group by _refresh_id, _file_name, _loaded_at, {{ month_of('occurred_at') }}
)

select * from batches
