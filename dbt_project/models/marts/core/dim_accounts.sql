-- Grain: one row per account, its latest CRM version.
with

accounts as (select * from {{ ref('stg_crm__accounts') }}),

mrr as (select * from {{ ref('int_account_months_mrr_classified') }}),

cohorts as (
    select
        account_id,
        max(cohort_month) as cohort_month
    from mrr
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.currency,
        accounts.country,
        accounts.created_at,
        {{ month_of('accounts.created_at') }} as first_month,
        cohorts.cohort_month,
        accounts.updated_at
    from accounts
    left join cohorts
        on accounts.account_id = cohorts.account_id
)

select * from final
