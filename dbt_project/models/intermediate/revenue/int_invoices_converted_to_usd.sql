-- Grain: one row per invoice (latest version), every status.
-- Amounts are converted at the rate of the issue date: the latest rate on or before it
-- (the export contract), the interval of int_fx_rates_as_of_day that holds the day. USD needs no
-- rate. A
-- missing rate leaves the USD amounts null and is listed by rpt_missing_fx_rates; it is never
-- guessed.
with

invoices as (select * from {{ ref('stg_billing__invoices') }}),

fx_rates as (select * from {{ ref('int_fx_rates_as_of_day') }}),

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

converted as (
    select
        invoices_dated.*,
        fx_rates.rate_date as fx_rate_date,
        case
            when invoices_dated.currency = 'USD' then cast(1 as decimal(18, 8))
            else fx_rates.usd_per_unit
        end as usd_per_unit
    from invoices_dated
    left join fx_rates
        on {{ fx_rate_in_force(
            'fx_rates', 'invoices_dated.currency', 'invoices_dated.issued_date'
        ) }}
),

final as (
    select
        invoice_id,
        account_id,
        subscription_id,
        currency,
        status,
        -- void and draft invoices are not bills the customer received
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
