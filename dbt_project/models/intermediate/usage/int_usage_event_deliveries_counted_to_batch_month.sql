-- Grain: one row per delivery batch (refresh x file x load time) x month of occurred_at.
-- Deliveries, not events: a re-delivered event counts again here. The rollup reads it to find the
-- months an incremental run must rebuild without scanning (and de-duplicating) every event.
-- A view, unlike the other intermediates: as a view over a group by, a filter on _loaded_at
-- reaches the raw table's zone maps; a table would rescan every delivered row on every build.
{{ config(materialized='view') }}

with

deliveries as (select * from {{ ref('stg_telemetry__usage_event_deliveries') }}),

batches as (
    select
        _refresh_id,
        _file_name,
        _loaded_at,
        {{ month_of('occurred_at') }} as month,
        count(*) as delivered_rows,
        min(occurred_at) as first_occurred_at,
        max(occurred_at) as last_occurred_at
    from deliveries
    group by _refresh_id, _file_name, _loaded_at, {{ month_of('occurred_at') }}
)

select * from batches
