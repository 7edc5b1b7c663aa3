-- Grain: one row per account, its latest CRM version.
with

accounts as (select * from {{ ref('stg_crm__accounts') }}),

final as (
    select
        account_id,
        account_name,
        segment,
        currency,
        country,
        created_at,
        {{ month_of('created_at') }} as first_month,
        updated_at
    from accounts
)

select * from final
