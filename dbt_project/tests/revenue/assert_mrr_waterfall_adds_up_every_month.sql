-- Rule: for every month and segment, starting MRR + new + expansion + contraction + churned +
-- reactivation + FX effect = ending MRR, to the hundredth of a cent, and this month's starting MRR
-- is last month's ending MRR. Exception: a month whose amounts are null because a month-end FX rate
-- is missing, this month's or the one before (its starting MRR). That is reported once, as a
-- warning with the currency and dates (assert_every_amount_has_an_fx_rate, rpt_missing_fx_rates),
-- and does not stop the refresh; every month with amounts is still checked to the cent.
with

portfolio as (select * from {{ ref('rpt_revenue_portfolio_monthly') }}),

-- the months whose USD amounts a missing month-end rate leaves null: its own and the next (whose
-- starting MRR it is)
months_missing_a_rate as (
    select distinct cast({{ dbt.date_trunc('month', 'needed_date') }} as date) as month
    from {{ ref('rpt_missing_fx_rates') }}
    where purpose = 'mrr'
),

months_without_amounts as (
    select month from months_missing_a_rate
    union
    select cast({{ dbt.dateadd('month', 1, 'month') }} as date) as month
    from months_missing_a_rate
),

unbalanced as (
    select
        portfolio.month,
        portfolio.segment,
        portfolio.starting_mrr_usd,
        portfolio.ending_mrr_usd,
        'movements do not add up' as failure
    from portfolio
    left join months_without_amounts
        on portfolio.month = months_without_amounts.month
    where coalesce(
            portfolio.starting_mrr_usd + portfolio.new_mrr_usd + portfolio.expansion_mrr_usd
            + portfolio.contraction_mrr_usd + portfolio.churned_mrr_usd
            + portfolio.reactivation_mrr_usd + portfolio.fx_effect_mrr_usd
            <> portfolio.ending_mrr_usd,
            months_without_amounts.month is null
        )
),

broken_chain as (
    select
        portfolio.month,
        portfolio.segment,
        portfolio.starting_mrr_usd,
        previous.ending_mrr_usd,
        'starting MRR is not the previous ending MRR' as failure
    from portfolio
    inner join portfolio as previous
        on portfolio.segment = previous.segment
            and previous.month = {{ dbt.dateadd('month', -1, 'portfolio.month') }}
    where portfolio.starting_mrr_usd <> previous.ending_mrr_usd
),

failures as (
    select * from unbalanced
    union all
    select * from broken_chain
)

select * from failures
