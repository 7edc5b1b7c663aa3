-- Rule: every account has one row per month from its first month to the data's as-of month, with
-- no gaps. Exceptions: none; an account created after the as-of month has no
-- rows at all, and an empty warehouse has none.
with

account_months as (select * from {{ ref('fct_account_month') }}),

data_as_of as (select * from {{ ref('rpt_data_as_of') }}),

per_account as (
    select
        account_id,
        min(first_month) as first_month,
        min(month) as first_row_month,
        max(month) as last_row_month,
        count(*) as month_rows
    from account_months
    group by account_id
),

violations as (
    select
        per_account.*,
        data_as_of.as_of_month
    from per_account
    cross join data_as_of
    where per_account.first_row_month <> per_account.first_month
        or per_account.last_row_month <> data_as_of.as_of_month
        or per_account.month_rows
        <> {{ dbt.datediff('per_account.first_month', 'data_as_of.as_of_month', 'month') }} + 1
)

select * from violations
