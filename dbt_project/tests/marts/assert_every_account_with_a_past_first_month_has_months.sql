-- Rule: an account whose first month is not after the as-of month appears in fct_account_month,
-- so a spine that falls short (e.g. var('month_spine_max_months') too small) fails loudly.
-- Exceptions: accounts created after the as-of month have no months yet.
with

accounts as (select * from {{ ref('dim_accounts') }}),

data_as_of as (select * from {{ ref('rpt_data_as_of') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

missing as (
    select accounts.account_id
    from accounts
    cross join data_as_of
    where accounts.first_month <= data_as_of.as_of_month
        and not exists (
            select 1
            from account_months
            where account_months.account_id = accounts.account_id
        )
)

select * from missing
