-- Grain: one row per currency x purpose x date for which a USD amount needed a rate and found
-- none on or before that date (the export contract: a missing rate is reported, not guessed).
-- Empty when
-- every amount converted. purpose: `invoice` (issue date) or `mrr` (month end).
with

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

subscription_months as (select * from {{ ref('int_subscriptions_priced_to_month_end') }}),

missing_for_invoices as (
    select
        currency,
        cast('invoice' as {{ dbt.type_string() }}) as purpose,
        issued_date as needed_date,
        count(*) as affected_rows,
        min(invoice_id) as example_id
    from invoices
    where is_missing_fx_rate
    group by currency, issued_date
),

missing_for_mrr as (
    select
        currency,
        cast('mrr' as {{ dbt.type_string() }}) as purpose,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }} as date)
            as needed_date,
        count(*) as affected_rows,
        min(subscription_id) as example_id
    from subscription_months
    where usd_per_unit is null
    group by currency, month
),

unioned as (
    select * from missing_for_invoices
    union all
    select * from missing_for_mrr
),

final as (
    select
        currency,
        purpose,
        needed_date,
        cast(affected_rows as {{ dbt.type_bigint() }}) as affected_rows,
        example_id
    from unioned
)

select * from final
