-- Grain: one row per origin (origin_kind): where a projection starts and how far it runs.
-- `projection` starts at the data's as-of month (the last month of fct_account_month) and runs
-- projection_horizon_months ahead; `backtest` runs the same method from projection_backtest_months
-- before it, up to the as-of month, so its months can be compared with what was really billed.
{%- set horizon = var('projection_horizon_months') | int %}
{%- set backtest = var('projection_backtest_months') | int %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

as_of as (
    select max(month) as as_of_month
    from account_months
),

origins as (
    select
        cast('projection' as {{ dbt.type_string() }}) as origin_kind,
        as_of_month as origin_month,
        {{ horizon }} as horizon_months
    from as_of
    where as_of_month is not null
    union all
    select
        cast('backtest' as {{ dbt.type_string() }}) as origin_kind,
        cast({{ dbt.dateadd('month', -backtest, 'as_of_month') }} as date) as origin_month,
        {{ backtest }} as horizon_months
    from as_of
    where as_of_month is not null
)

select * from origins
