-- Grain: one row per seat event (event_id), corrections and the events they void included:
-- history is never overwritten. What a correction voids and how an event moves seats is business
-- logic of the ledger (int_seat_events_sequenced), not staging's.
with

source as (select * from {{ source('entitlements', 'seat_events') }}),

renamed as (
    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,
        cast(seat_role as {{ dbt.type_string() }}) as seat_role,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(effective_at as {{ dbt.type_timestamp() }}) as effective_at,
        cast(recorded_at as {{ dbt.type_timestamp() }}) as recorded_at,
        cast(corrects_event_id as {{ dbt.type_string() }}) as corrects_event_id,
        cast(source as {{ dbt.type_string() }}) as source,
        {{ lineage_columns() }}
    from source
),

deduplicated as (
    {{ one_row_per_key('renamed', ['event_id'], keep='first_delivery') }}
)

select * from deduplicated
