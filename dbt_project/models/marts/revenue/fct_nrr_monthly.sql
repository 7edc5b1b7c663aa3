-- Grain: one row per month x segment (plus segment `all`), for every month from the first month
-- of data to the as-of month. Trailing-12-month NRR and GRR: over the accounts with
-- MRR > 0 twelve months earlier (the base), their MRR now over their MRR then; accounts new since
-- then are excluded and churned ones count as 0. GRR caps each account's MRR now at its MRR then.
-- Null while there is no base (the first twelve months of data).
with

account_months as (select * from {{ ref('fct_account_month') }}),

months as (
    select distinct month
    from account_months
),

segments as (
    select distinct segment
    from account_months
    union all
    select cast('all' as {{ dbt.type_string() }}) as segment
),

base_and_current as (
    select
        current_month.month,
        current_month.segment,
        current_month.account_id,
        base_month.mrr_usd as base_mrr_usd,
        current_month.mrr_usd as current_mrr_usd,
        case
            when current_month.mrr_usd < base_month.mrr_usd then current_month.mrr_usd
            else base_month.mrr_usd
        end as retained_mrr_usd
    from account_months as current_month
    inner join account_months as base_month
        on current_month.account_id = base_month.account_id
            and base_month.month = {{ dbt.dateadd('month', -12, 'current_month.month') }}
    where base_month.mrr_usd > 0
),

-- each account counts in its own segment and in `all`
by_segment as (
    select
        month,
        segment,
        account_id,
        base_mrr_usd,
        current_mrr_usd,
        retained_mrr_usd
    from base_and_current
    union all
    select
        month,
        'all' as segment,
        account_id,
        base_mrr_usd,
        current_mrr_usd,
        retained_mrr_usd
    from base_and_current
),

aggregated as (
    select
        month,
        segment,
        count(*) as base_accounts,
        sum(base_mrr_usd) as base_mrr_usd,
        sum(current_mrr_usd) as current_mrr_usd,
        sum(retained_mrr_usd) as retained_mrr_usd
    from by_segment
    group by month, segment
),

final as (
    select
        months.month,
        segments.segment,
        cast(coalesce(aggregated.base_accounts, 0) as {{ dbt.type_bigint() }}) as base_accounts,
        cast(coalesce(aggregated.base_mrr_usd, 0) as decimal(18, 4)) as base_mrr_usd,
        cast(coalesce(aggregated.current_mrr_usd, 0) as decimal(18, 4)) as current_mrr_usd,
        cast(coalesce(aggregated.retained_mrr_usd, 0) as decimal(18, 4)) as retained_mrr_usd,
        cast(aggregated.current_mrr_usd as double) / nullif(aggregated.base_mrr_usd, 0) as nrr,
        cast(aggregated.retained_mrr_usd as double) / nullif(aggregated.base_mrr_usd, 0) as grr
    from months
    cross join segments
    left join aggregated
        on months.month = aggregated.month
            and segments.segment = aggregated.segment
)

select * from final
