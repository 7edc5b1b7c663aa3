-- Grain: one row per account per month of the account's month spine per price model.
-- uncapped_usd is the same bill without the model's spend caps (equal to billed_usd for a model
-- without caps and for the real invoices).
-- What each price model billed the account in the month: for `current`, the real invoices issued
-- in the month (void and draft ignored), their totals summed in USD at each issue date's rate.
-- Shadow billing adds one block per proposed model here (a union on the same columns), so the
-- bill-shock logic downstream is written once for every price_model_id.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

accounts as (select * from {{ ref('stg_crm__accounts') }}),

invoices as (select * from {{ ref('int_invoices_converted_to_usd') }}),

invoiced_months as (
    select
        account_id,
        issued_month as month,
        -- a month with an invoice lacking its rate has an unknown total, not a smaller one
        case when count(total_usd) = count(*) then sum(total_usd) end as billed_usd
    from invoices
    where is_billed
    group by account_id, issued_month
),

current_model as (
    select
        account_months.account_id,
        account_months.month,
        accounts.segment,
        cast('current' as {{ dbt.type_string() }}) as price_model_id,
        cast(
            case
                when invoiced_months.account_id is null then 0
                else invoiced_months.billed_usd
            end as decimal(18, 4)
        ) as billed_usd,
        invoiced_months.account_id is not null as is_billed,
        -- real invoices have no model spend cap: uncapped is what they billed
        cast(
            case
                when invoiced_months.account_id is null then 0
                else invoiced_months.billed_usd
            end as decimal(18, 4)
        ) as uncapped_usd,
        invoiced_months.account_id is not null as is_uncapped_billed
    from account_months
    inner join accounts
        on account_months.account_id = accounts.account_id
    left join invoiced_months
        on account_months.account_id = invoiced_months.account_id
            and account_months.month = invoiced_months.month
),

-- Shadow billing: every model of the price book, on the account-months it rates; a
-- month whose shadow total is above zero is a month that model billed.
shadow_models as (
    select
        account_id,
        month,
        segment,
        price_model_id,
        cast(shadow_usd as decimal(18, 4)) as billed_usd,
        shadow_usd > 0 as is_billed,
        -- the same invoice without the model's spend caps: what bill shock the caps avoided
        cast(shadow_uncapped_usd as decimal(18, 4)) as uncapped_usd,
        shadow_uncapped_usd > 0 as is_uncapped_billed
    from {{ ref('int_account_months_shadow_billed') }}
)

select * from current_model
union all
select * from shadow_models
