-- Grain: one row per account per month per price model (as in
-- int_account_month_billed_by_price_model), for every price model at once.
-- Bill shock: a billed month whose total is more than `bill_shock_ratio` x the average
-- of the account's previous three billed months and higher than it by at least
-- `bill_shock_min_usd`. A month with fewer than three billed months before it is not judged; nor is
-- one whose total, or one of the three before it, lacks an FX rate (null USD amount). A month whose
-- invoices net to zero or less (a credit, such as the proration credit of a switch to an assigned
-- model) is no bill: it is not judged and is not one of the three before a later month, whose
-- average it would otherwise pull down until an unchanged bill read as a shock.
-- The rule (macros prior_billed_months and is_bill_shock) judges the bill (billed_usd) and the same
-- bill without the model's spend caps (uncapped_usd), so a capped proposal shows the bill shock its
-- caps avoided.
with

billed as (select * from {{ ref('int_account_month_billed_by_price_model') }}),

billed_months as (
    {{ prior_billed_months(
        'billed', 'billed_usd', 'is_billed and coalesce(billed_usd > 0, true)'
    ) }}
),

uncapped_months as (
    {{ prior_billed_months(
        'billed', 'uncapped_usd', 'is_uncapped_billed and coalesce(uncapped_usd > 0, true)'
    ) }}
),

judged as (
    select
        billed.account_id,
        billed.month,
        billed.segment,
        billed.price_model_id,
        billed.billed_usd,
        billed.is_billed,
        billed.uncapped_usd,
        coalesce(billed_months.prior_billed_months, 0) as prior_billed_months,
        billed_months.prior_three_total_usd,
        uncapped_months.prior_three_total_usd as prior_three_uncapped_usd,
        cast(billed_months.prior_three_total_usd / 3 as decimal(18, 4)) as prior_three_average_usd,
        coalesce(
            billed.is_billed
            and billed.billed_usd > 0
            and billed_months.prior_billed_months >= 3
            and billed_months.prior_three_known = 3
            and billed.billed_usd is not null,
            false
        ) as is_judged,
        coalesce(
            billed.is_uncapped_billed
            and billed.uncapped_usd > 0
            and uncapped_months.prior_billed_months >= 3
            and uncapped_months.prior_three_known = 3
            and billed.uncapped_usd is not null,
            false
        ) as is_uncapped_judged
    from billed
    left join billed_months
        on billed.account_id = billed_months.account_id
            and billed.month = billed_months.month
            and billed.price_model_id = billed_months.price_model_id
    left join uncapped_months
        on billed.account_id = uncapped_months.account_id
            and billed.month = uncapped_months.month
            and billed.price_model_id = uncapped_months.price_model_id
),

flagged as (
    select
        account_id,
        month,
        segment,
        price_model_id,
        billed_usd,
        is_billed,
        prior_billed_months,
        prior_three_average_usd,
        is_judged,
        {{ is_bill_shock('is_judged', 'billed_usd', 'prior_three_total_usd') }} as is_bill_shock,
        {{ is_bill_shock('is_uncapped_judged', 'uncapped_usd', 'prior_three_uncapped_usd') }}
            as is_bill_shock_uncapped
    from judged
)

select * from flagged
