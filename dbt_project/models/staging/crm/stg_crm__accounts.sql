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

ranked as (
    select
        *,
        {{ latest_version_rank(['account_id']) }} as version_rank
    from renamed
),

latest as (
    select {{ star_exclude(["version_rank"]) }}
    from ranked
    where version_rank = 1
)

select * from latest
