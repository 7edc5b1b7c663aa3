-- Grain: one row per currency per rate_date.
with

source as (select * from {{ source('treasury', 'fx_rates') }}),

renamed as (
    select
        cast(rate_date as date) as rate_date,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(usd_per_unit as decimal(18, 8)) as usd_per_unit,
        {{ lineage_columns() }}
    from source
),

deduplicated as (
    {{ one_row_per_key('renamed', ['rate_date', 'currency'], keep='first_delivery') }}
)

select * from deduplicated
