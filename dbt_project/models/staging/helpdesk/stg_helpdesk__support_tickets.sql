-- Grain: one row per support ticket.
with

source as (select * from {{ source('helpdesk', 'support_tickets') }}),

renamed as (
    select
        cast(ticket_id as {{ dbt.type_string() }}) as ticket_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(category as {{ dbt.type_string() }}) as category,
        {{ lineage_columns() }}
    from source
),

ranked as (
    select
        *,
        {{ first_delivery_rank(['ticket_id']) }} as version_rank
    from renamed
),

deduplicated as (
    select {{ star_exclude(["version_rank"]) }}
    from ranked
    where version_rank = 1
)

select * from deduplicated
