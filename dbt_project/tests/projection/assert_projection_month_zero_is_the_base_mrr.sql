-- Rule: month 0 of the projection equals, in every scenario, the MRR of the segment's base at the
-- data's as-of month (the accounts with MRR above 0: the current model's month 0 is their MRR as
-- fct_account_month holds it, the figure the Seat health page shows) or their shadow revenue of
-- the month (a proposal: shadow_usd of fct_shadow_invoice); segment `all` the whole base. A segment
-- with no paying account in the as-of month has no row on either side. Exceptions: none.
with

projection as (select * from {{ ref('fct_revenue_projection') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

as_of as (
    select max(month) as as_of_month
    from account_months
),

latest_bills as (
    select
        shadow_invoices.segment,
        shadow_invoices.price_model_id,
        sum(
            case
                when price_models.is_current_model then account_months.mrr_usd
                else coalesce(shadow_invoices.shadow_usd, 0)
            end
        ) as latest_usd
    from shadow_invoices
    inner join as_of
        on shadow_invoices.month = as_of.as_of_month
    inner join price_models
        on shadow_invoices.price_model_id = price_models.price_model_id
    inner join account_months
        on shadow_invoices.account_id = account_months.account_id
            and shadow_invoices.month = account_months.month
    where account_months.mrr_usd > 0
    group by shadow_invoices.segment, shadow_invoices.price_model_id
),

latest_with_all as (
    select * from latest_bills
    union all
    select
        'all' as segment,
        price_model_id,
        sum(latest_usd) as latest_usd
    from latest_bills
    group by price_model_id
),

month_zero as (
    select *
    from projection
    where months_ahead = 0
)

select
    coalesce(month_zero.segment, latest_with_all.segment) as segment,
    coalesce(month_zero.price_model_id, latest_with_all.price_model_id) as price_model_id,
    month_zero.scenario,
    month_zero.projected_revenue_usd,
    latest_with_all.latest_usd
from month_zero
full outer join latest_with_all
    on month_zero.segment = latest_with_all.segment
        and month_zero.price_model_id = latest_with_all.price_model_id
where month_zero.segment is null
    or latest_with_all.segment is null
    or abs(month_zero.projected_revenue_usd - latest_with_all.latest_usd) > 0.005
