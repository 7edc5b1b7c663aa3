-- Grain: one row per invoice, its latest version (a snapshot export).
-- Amounts in the invoice currency.
with

source as (select * from {{ source('billing', 'invoices') }}),

renamed as (
    select
        cast(invoice_id as {{ dbt.type_string() }}) as invoice_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(subscription_id as {{ dbt.type_string() }}) as subscription_id,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(period_start as {{ dbt.type_timestamp() }}) as period_start,
        cast(period_end as {{ dbt.type_timestamp() }}) as period_end,
        cast(issued_at as {{ dbt.type_timestamp() }}) as issued_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(subtotal as decimal(18, 4)) as subtotal,
        cast(coalesce(tax, 0) as decimal(18, 4)) as tax,
        cast(total as decimal(18, 4)) as total,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        {{ lineage_columns() }}
    from source
),

latest as (
    {{ one_row_per_key('renamed', ['invoice_id'], keep='latest_version') }}
)

select * from latest
