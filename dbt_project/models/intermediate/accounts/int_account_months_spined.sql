-- Grain: one row per account per month, from the month of the account's created_at to the data's
-- as-of month, with no gaps: a month with no activity still has its row.
with

accounts as (select * from {{ ref('stg_crm__accounts') }}),

export_timestamps as (select * from {{ ref('int_export_timestamps_aggregated') }}),

account_first_months as (
    select
        account_id,
        {{ month_of('created_at') }} as first_month
    from accounts
),

bounds as (
    select
        min(account_first_months.first_month) as first_month,
        max(export_timestamps.as_of_month) as as_of_month
    from account_first_months
    cross join export_timestamps
),

months as (
    {{ month_spine(
        '(select first_month from bounds)',
        '(select as_of_month from bounds)',
    ) }}
),

spined as (
    select
        account_first_months.account_id,
        months.month,
        account_first_months.first_month
    from account_first_months
    inner join months
        on account_first_months.first_month <= months.month
)

select * from spined
