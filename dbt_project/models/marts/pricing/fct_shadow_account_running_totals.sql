-- Grain: one row per account x price model x month, from the account's first shadow-billed month
-- under the model to the last rated month of the history (account_id, price_model_id, month).
-- Its shadow invoices' running totals up to and including the month (docs block
-- pricing_shadow_running_totals): what any period's winners and losers need is two rows per account
-- and model, the period's last month less the month before it, instead of every month between.
-- A month without an invoice of its own (a gap, or after the account's last rated month) carries
-- the totals of the month before.
with

invoices as (
    select
        account_id,
        segment,
        price_model_id,
        month,
        actual_usd,
        shadow_usd,
        is_bill_shock
    from {{ ref('fct_shadow_invoice') }}
),

months as (
    select distinct month from invoices
),

series as (
    select
        account_id,
        segment,
        price_model_id,
        min(month) as first_month
    from invoices
    group by account_id, segment, price_model_id
),

grid as (
    select
        series.account_id,
        series.segment,
        series.price_model_id,
        months.month
    from series
    inner join months
        on series.first_month <= months.month
),

filled as (
    select
        grid.account_id,
        grid.segment,
        grid.price_model_id,
        grid.month,
        case when invoices.account_id is null then 0 else 1 end as is_rated,
        case when invoices.actual_usd is null then 0 else 1 end as has_actual,
        coalesce(invoices.actual_usd, 0) as actual_usd,
        coalesce(invoices.shadow_usd, 0) as shadow_usd,
        case when invoices.is_bill_shock then 1 else 0 end as is_bill_shock
    from grid
    left join invoices
        on grid.account_id = invoices.account_id
            and grid.segment = invoices.segment
            and grid.price_model_id = invoices.price_model_id
            and grid.month = invoices.month
),

final as (
    select
        account_id || '|' || price_model_id || '|' || cast(month as {{ dbt.type_string() }})
            as shadow_account_running_id,
        account_id,
        segment,
        price_model_id,
        month,
        cast(sum(is_rated) over (
            partition by account_id, segment, price_model_id order by month
            rows between unbounded preceding and current row
        ) as integer) as rated_months,
        cast(sum(has_actual) over (
            partition by account_id, segment, price_model_id order by month
            rows between unbounded preceding and current row
        ) as integer) as actual_months,
        cast(sum(actual_usd) over (
            partition by account_id, segment, price_model_id order by month
            rows between unbounded preceding and current row
        ) as decimal(18, 4)) as actual_usd,
        cast(sum(shadow_usd) over (
            partition by account_id, segment, price_model_id order by month
            rows between unbounded preceding and current row
        ) as decimal(18, 4)) as shadow_usd,
        cast(sum(is_bill_shock) over (
            partition by account_id, segment, price_model_id order by month
            rows between unbounded preceding and current row
        ) as integer) as shocked_months
    from filled
)

select * from final
