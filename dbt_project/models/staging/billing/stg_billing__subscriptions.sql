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

latest as (
    {{ one_row_per_key('renamed', ['subscription_id'], keep='latest_version') }}
)

select * from latest
