-- Grain: one row per assignment, its latest version (a snapshot export). The loader keeps the
-- periods of an account's latest versions from overlapping (export contract).
with

source as (select * from {{ source('billing', 'price_model_assignments') }}),

renamed as (
    select
        cast(assignment_id as {{ dbt.type_string() }}) as assignment_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(price_model_id as {{ dbt.type_string() }}) as price_model_id,
        cast(cohort as {{ dbt.type_string() }}) as cohort,
        cast(effective_from as {{ dbt.type_timestamp() }}) as effective_from,
        cast(effective_to as {{ dbt.type_timestamp() }}) as effective_to,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        {{ lineage_columns() }}
    from source
),

latest as (
    {{ one_row_per_key('renamed', ['assignment_id'], keep='latest_version') }}
)

select * from latest
