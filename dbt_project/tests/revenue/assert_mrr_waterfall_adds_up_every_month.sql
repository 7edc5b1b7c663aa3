-- Rule: for every month and segment, starting MRR + new + expansion + contraction + churned +
-- reactivation + FX effect = ending MRR, to the hundredth of a cent, and this month's starting MRR
-- is last month's ending MRR. Exceptions: none; a month with a missing FX rate has null amounts and
-- fails here on purpose (see rpt_missing_fx_rates).
with

portfolio as (select * from {{ ref('rpt_revenue_portfolio_monthly') }}),

unbalanced as (
    select
        month,
        segment,
        starting_mrr_usd,
        ending_mrr_usd,
        'movements do not add up' as failure
    from portfolio
    where coalesce(
            starting_mrr_usd + new_mrr_usd + expansion_mrr_usd + contraction_mrr_usd
            + churned_mrr_usd + reactivation_mrr_usd + fx_effect_mrr_usd
            <> ending_mrr_usd,
            true
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
