-- Grain: one row per month x price_model_id x segment (plus segment `all`), for every month in
-- which the model billed someone. `current` is the real invoices; shadow billing's models arrive
-- through the same intermediate model, so this SQL never names one.
-- Bill-shock rate = accounts with a shock in the month / accounts billed in the month.
with

judged as (select * from {{ ref('int_account_months_judged_for_bill_shock') }}),

by_segment as (
    select
        month,
        price_model_id,
        segment,
        account_id,
        is_judged,
        is_bill_shock
    from judged
    where is_billed
    union all
    select
        month,
        price_model_id,
        'all' as segment,
        account_id,
        is_judged,
        is_bill_shock
    from judged
    where is_billed
),

aggregated as (
    select
        month,
        price_model_id,
        segment,
        count(*) as billed_accounts,
        sum(case when is_judged then 1 else 0 end) as judged_accounts,
        sum(case when is_bill_shock then 1 else 0 end) as shocked_accounts
    from by_segment
    group by month, price_model_id, segment
),

final as (
    select
        month,
        price_model_id,
        segment,
        cast(billed_accounts as {{ dbt.type_bigint() }}) as billed_accounts,
        cast(judged_accounts as {{ dbt.type_bigint() }}) as judged_accounts,
        cast(shocked_accounts as {{ dbt.type_bigint() }}) as shocked_accounts,
        -- a month in which no account could be judged has no rate (a gap on charts, not 0%)
        case
            when judged_accounts > 0
                then cast(shocked_accounts as double) / nullif(billed_accounts, 0)
        end as bill_shock_rate
    from aggregated
)

select * from final
