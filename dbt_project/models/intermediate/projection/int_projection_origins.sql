-- Grain: one row per origin (origin_kind): where a projection starts and how far it runs.
-- `projection` starts at the data's as-of month (the last month of fct_account_month) and runs
-- projection_horizon_months ahead; `backtest` runs the same method from projection_backtest_months
-- before it, up to the as-of month, so its months can be compared with what was really billed.
-- A history shorter than that starts the backtest at the first month of data, over the months
-- there are (a young warehouse still shows the method's error, over fewer months); with a single
-- month of data there is no backtest.
{%- set horizon = var('projection_horizon_months') | int %}
{%- set backtest = var('projection_backtest_months') | int %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

as_of as (
    select
        max(month) as as_of_month,
        min(month) as first_month
    from account_months
),

backtest_start as (
    select
        as_of_month,
        case
            when {{ dbt.dateadd('month', -backtest, 'as_of_month') }} < first_month
                then first_month
            else {{ dbt.dateadd('month', -backtest, 'as_of_month') }}
        end as origin_month
    from as_of
),

origins as (
    select
        cast('projection' as {{ dbt.type_string() }}) as origin_kind,
        as_of_month as origin_month,
        cast({{ horizon }} as integer) as horizon_months
    from as_of
    where as_of_month is not null
    union all
    select
        cast('backtest' as {{ dbt.type_string() }}) as origin_kind,
        cast(origin_month as date) as origin_month,
        cast({{ dbt.datediff('origin_month', 'as_of_month', 'month') }} as integer)
            as horizon_months
    from backtest_start
    where origin_month < as_of_month
)

select * from origins
