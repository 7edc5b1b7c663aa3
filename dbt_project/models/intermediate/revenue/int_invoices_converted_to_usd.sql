-- Grain: one row per invoice (latest version), every status.
-- Amounts are converted at the rate of the issue date: the latest rate on or before it
-- (exports.md). USD needs no rate. A missing rate leaves the USD amounts null and is listed by
-- rpt_missing_fx_rates; it is never guessed.
with

invoices as (select * from {{ ref('stg_billing__invoices') }}),

fx_rates as (select * from {{ ref('stg_treasury__fx_rates') }}),

invoices_dated as (
    select
        invoice_id,
        account_id,
        subscription_id,
        currency,
        status,
        issued_at,
        cast(issued_at as date) as issued_date,
        {{ month_of('issued_at') }} as issued_month,
        subtotal,
        tax,
        total
    from invoices
),

rates_on_or_before as (
    select
        invoices_dated.invoice_id,
        fx_rates.rate_date,
        fx_rates.usd_per_unit,
        row_number() over (
            partition by invoices_dated.invoice_id
            order by fx_rates.rate_date desc
        ) as recency_rank
    from invoices_dated
    inner join fx_rates
        on invoices_dated.currency = fx_rates.currency
            and invoices_dated.issued_date >= fx_rates.rate_date
    where invoices_dated.currency != 'USD'
),

latest_rates as (
    select
        invoice_id,
        rate_date,
        usd_per_unit
    from rates_on_or_before
    where recency_rank = 1
),

converted as (
    select
        invoices_dated.*,
        latest_rates.rate_date as fx_rate_date,
        case
            when invoices_dated.currency = 'USD' then cast(1 as decimal(18, 8))
            else latest_rates.usd_per_unit
        end as usd_per_unit
    from invoices_dated
    left join latest_rates
        on invoices_dated.invoice_id = latest_rates.invoice_id
),

final as (
    select
        invoice_id,
        account_id,
        subscription_id,
        currency,
        status,
        -- DOMAIN.md: void and draft invoices are not bills the customer received
        status not in ('void', 'draft') as is_billed,
        issued_at,
        issued_date,
        issued_month,
        subtotal,
        tax,
        total,
        fx_rate_date,
        usd_per_unit,
        usd_per_unit is null as is_missing_fx_rate,
        cast(subtotal * usd_per_unit as decimal(18, 4)) as subtotal_usd,
        cast(total * usd_per_unit as decimal(18, 4)) as total_usd
    from converted
)

select * from final
