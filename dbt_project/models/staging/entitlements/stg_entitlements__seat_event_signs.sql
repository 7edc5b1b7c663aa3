-- Grain: one row per seat event type (event_type).
with

source as (select * from {{ source('entitlements', 'seat_event_signs') }}),

renamed as (
    select
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(seat_sign as {{ dbt.type_int() }}) as seat_sign
    from source
)

select * from renamed
