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

ranked as (
    select
        *,
        {{ first_delivery_rank(['rate_date', 'currency']) }}
            as version_rank
    from renamed
),

deduplicated as (
    select {{ star_exclude(["version_rank"]) }}
    from ranked
    where version_rank = 1
)

select * from deduplicated
