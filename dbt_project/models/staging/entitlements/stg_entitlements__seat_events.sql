-- Grain: one row per seat event (event_id), voided ones included: history is never overwritten.
with

source as (select * from {{ source('entitlements', 'seat_events') }}),

-- the contract's sign per event type, as data (written by the loader every refresh)
seat_event_signs as (select * from {{ source('entitlements', 'seat_event_signs') }}),

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

ranked as (
    select
        *,
        {{ first_delivery_rank(['event_id']) }} as version_rank
    from renamed
),

deduplicated as (
    select {{ star_exclude(["version_rank"]) }}
    from ranked
    where version_rank = 1
),

-- A correction voids the event it names. Should two corrections name the same event, the first
-- recorded one is the voiding event (the loader rejects corrections of corrections).
corrections_ranked as (
    select
        corrects_event_id,
        event_id as voided_by_event_id,
        row_number() over (
            partition by corrects_event_id
            order by recorded_at, event_id
        ) as correction_rank
    from deduplicated
    where event_type = 'correction'
        and corrects_event_id is not null
),

voiding_corrections as (
    select
        corrects_event_id,
        voided_by_event_id
    from corrections_ranked
    where correction_rank = 1
),

marked as (
    select
        deduplicated.*,
        voiding_corrections.voided_by_event_id,
        voiding_corrections.voided_by_event_id is not null as is_voided
    from deduplicated
    left join voiding_corrections
        on deduplicated.event_id = voiding_corrections.corrects_event_id
),

-- Reassignments change the holder, never the count; corrections act only through the voiding.
signed as (
    select
        marked.*,
        coalesce(seat_event_signs.seat_sign, 0) * marked.quantity as requested_seats_delta,
        case
            when marked.is_voided then 0
            else coalesce(seat_event_signs.seat_sign, 0) * marked.quantity
        end as seats_delta
    from marked
    left join seat_event_signs
        on marked.event_type = seat_event_signs.event_type
)

select * from signed
