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

deduplicated as (
    {{ one_row_per_key('renamed', ['ticket_id'], keep='first_delivery') }}
)

select * from deduplicated
