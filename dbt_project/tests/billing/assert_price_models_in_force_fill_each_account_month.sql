-- Every account-month of the spine is split between the models in force, and the split adds up
-- to the whole month: the seconds under each model sum to the month's seconds, and exactly one
-- model is the month's own (in force at its end). The loader keeps an account's assignments
-- from overlapping, so no second is counted twice; no exceptions.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

split as (select * from {{ ref('int_account_months_split_by_price_model') }}),

split_totals as (
    select
        account_id,
        month,
        sum(seconds_in_force) as seconds_in_force,
        max(seconds_in_month) as seconds_in_month,
        sum(case when is_month_model then 1 else 0 end) as month_models
    from split
    group by account_id, month
),

checked as (
    select
        account_months.account_id,
        account_months.month,
        split_totals.seconds_in_force,
        split_totals.seconds_in_month,
        split_totals.month_models
    from account_months
    left join split_totals
        on
            account_months.account_id = split_totals.account_id
            and account_months.month = split_totals.month
)

select * from checked
where
    seconds_in_force is null
    or seconds_in_force <> seconds_in_month
    or month_models <> 1
