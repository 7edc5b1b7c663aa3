-- Grain: one row per invoice line. Amounts in the invoice currency.
with

source as (select * from {{ source('billing', 'invoice_lines') }}),

renamed as (
    select
        cast(line_id as {{ dbt.type_string() }}) as line_id,
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id,
        cast(line_type as {{ dbt.type_string() }}) as line_type,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(quantity as decimal(18, 8)) as quantity,
        cast(unit_amount as decimal(18, 4)) as unit_amount,
        cast(amount as decimal(18, 4)) as amount,
        cast(period_start as {{ dbt.type_timestamp() }}) as period_start,
        cast(period_end as {{ dbt.type_timestamp() }}) as period_end,
        cast(source_event_id as {{ dbt.type_string() }}) as source_event_id,
        {{ lineage_columns() }}
    from source
),

deduplicated as (
    {{ one_row_per_key('renamed', ['line_id'], keep='first_delivery') }}
)

select * from deduplicated
