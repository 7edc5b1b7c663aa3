-- Grain: one row per account, its latest version (a snapshot export keeps every delivered version).
with

source as (select * from {{ source('crm', 'accounts') }}),

renamed as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(account_name as {{ dbt.type_string() }}) as account_name,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        {{ lineage_columns() }}
    from source
),

latest as (
    {{ one_row_per_key('renamed', ['account_id'], keep='latest_version') }}
)

select * from latest
