-- Grain: one row per cohort_month x months_since_start, from 0 to the as-of month.
-- Cohort retention: a cohort is the accounts whose first MRR > 0 fell in the month.
-- Cohort NRR_k = the cohort's MRR at cohort + k / its MRR at the cohort month; logo retention =
-- accounts with MRR > 0 at cohort + k / the cohort's size. Whether an account pays is read in its
-- own currency, as its cohort month is: an account whose month-end FX rate is missing still counts
-- as retained, while the cohort's USD MRR that month stays null (never guessed).
with

account_months as (select * from {{ ref('fct_account_month') }}),

mrr_in_currency as (select * from {{ ref('int_account_months_mrr_classified') }}),

cohort_months as (
    select
        account_months.cohort_month,
        {{ dbt.datediff('account_months.cohort_month', 'account_months.month', 'month') }}
            as months_since_start,
        account_months.account_id,
        account_months.mrr_usd,
        mrr_in_currency.mrr > 0 as is_paying
    from account_months
    inner join mrr_in_currency
        on account_months.account_id = mrr_in_currency.account_id
            and account_months.month = mrr_in_currency.month
    where account_months.cohort_month is not null
        and account_months.month >= account_months.cohort_month
),

aggregated as (
    select
        cohort_month,
        months_since_start,
        count(*) as cohort_accounts,
        sum(case when is_paying then 1 else 0 end) as retained_accounts,
        -- null when any account's USD MRR is (a missing FX rate), never a sum that leaves it out
        case when count(mrr_usd) = count(*) then sum(mrr_usd) end as mrr_usd
    from cohort_months
    group by cohort_month, months_since_start
),

with_start as (
    select
        aggregated.*,
        starting.mrr_usd as starting_mrr_usd
    from aggregated
    inner join aggregated as starting
        on aggregated.cohort_month = starting.cohort_month
            and starting.months_since_start = 0
),

final as (
    select
        cohort_month,
        cast(months_since_start as {{ dbt.type_bigint() }}) as months_since_start,
        cast(
            {{ dbt.dateadd('month', 'months_since_start', 'cohort_month') }} as date
        ) as month,
        cast(cohort_accounts as {{ dbt.type_bigint() }}) as cohort_accounts,
        cast(retained_accounts as {{ dbt.type_bigint() }}) as retained_accounts,
        cast(mrr_usd as decimal(18, 4)) as mrr_usd,
        cast(starting_mrr_usd as decimal(18, 4)) as starting_mrr_usd,
        cast(mrr_usd as double) / nullif(starting_mrr_usd, 0) as nrr,
        cast(retained_accounts as double) / nullif(cohort_accounts, 0) as logo_retention
    from with_start
)

select * from final
