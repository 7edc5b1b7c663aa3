-- Grain: one row per plan price, i.e. plan_id + effective_from.
with

source as (select * from {{ source('billing', 'plans') }}),

renamed as (
    select
        cast(plan_id as {{ dbt.type_string() }}) as plan_id,
        cast(plan_name as {{ dbt.type_string() }}) as plan_name,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(billing_interval as {{ dbt.type_string() }}) as billing_interval,
        cast(seat_unit_amount as decimal(18, 4)) as seat_unit_amount,
        -- an absent optional fee is no fee, so shadow and live bills can add it without coalesce
        cast(coalesce(platform_fee_amount, 0) as decimal(18, 4)) as platform_fee_amount,
        cast(effective_from as date) as effective_from,
        {{ lineage_columns() }}
    from source
),

deduplicated as (
    {{ one_row_per_key('renamed', ['plan_id', 'effective_from'], keep='first_delivery') }}
)

select * from deduplicated
