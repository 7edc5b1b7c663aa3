-- Grain: one row per subscription, its latest version (a snapshot export).
with

source as (select * from {{ source('billing', 'subscriptions') }}),

renamed as (
    select
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(plan_id as {{ dbt.type_string() }}) as plan_id,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(canceled_at as {{ dbt.type_timestamp() }}) as canceled_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        {{ lineage_columns() }}
    from source
),

ranked as (
    select
        *,
        {{ latest_version_rank(['subscription_id']) }} as version_rank
    from renamed
),

latest as (
    select {{ star_exclude(["version_rank"]) }}
    from ranked
    where version_rank = 1
)

select * from latest
