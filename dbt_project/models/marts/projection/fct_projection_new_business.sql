-- Grain: one row per segment x months ahead (segment, months_ahead); segment `all` is the sum.
-- The new business a segment has been winning, carried forward as a line of its own beside the
-- projection of today's base (docs block projection_new_business); never part of
-- fct_revenue_projection, whose scenarios are today's base only. From the data's own history:
-- over the trailing projection_history_months that end at the as-of month (those the data
-- holds), the segment's new logos per month (accounts whose MRR movement is `new`) and the MRR
-- they started on, averaged per month; each month ahead adds that cohort, priced as it started
-- (the current model's MRR), and every cohort already won keeps its accounts at the segment's
-- middle monthly logo churn (int_projection_rates_by_segment, as the base's): k months ahead the
-- line holds
--     new_mrr x sum over i = 0 .. k-1 of (1 - churn)^i
-- accounts alike; month 0 holds none. A segment that won nobody in the window has a line at 0.
{%- set history = var('projection_history_months') | int %}
{%- set horizon = var('projection_horizon_months') | int %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

rates as (select * from {{ ref('int_projection_rates_by_segment') }}),

origins as (select * from {{ ref('int_projection_origins') }}),

projection_origin as (
    select origin_month
    from origins
    where origin_kind = 'projection'
),

segments as (
    select distinct segment
    from account_months
    where segment is not null
),

-- the months of the window the data holds (a young warehouse averages over fewer)
window_months as (
    select count(distinct account_months.month) as months_in_window
    from account_months
    inner join projection_origin
        on account_months.month
            between {{ dbt.dateadd('month', 1 - history, 'projection_origin.origin_month') }}
            and projection_origin.origin_month
),

new_logos as (
    select
        account_months.segment,
        count(*) as new_logos,
        sum(account_months.mrr_usd) as new_mrr_usd
    from account_months
    inner join projection_origin
        on account_months.month
            between {{ dbt.dateadd('month', 1 - history, 'projection_origin.origin_month') }}
            and projection_origin.origin_month
    where account_months.mrr_movement = 'new'
    group by account_months.segment
),

segment_churn as (
    select
        segment,
        max(monthly_churn_rate) as monthly_churn_rate
    from rates
    where origin_kind = 'projection' and scenario = 'middle'
    group by segment
),

per_month as (
    select
        segments.segment,
        coalesce(
            cast(new_logos.new_logos as double) / nullif(window_months.months_in_window, 0), 0
        ) as new_logos_per_month,
        coalesce(
            cast(new_logos.new_mrr_usd as double) / nullif(window_months.months_in_window, 0), 0
        ) as new_mrr_usd_per_month,
        coalesce(segment_churn.monthly_churn_rate, 0) as monthly_churn_rate
    from segments
    cross join window_months
    left join new_logos
        on segments.segment = new_logos.segment
    left join segment_churn
        on segments.segment = segment_churn.segment
),

months as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series(horizon + 1) }}) as month_offsets
),

-- the cohorts won so far, each thinned by the churn since it was won
carried as (
    select
        per_month.segment,
        months.months_ahead,
        per_month.new_logos_per_month,
        per_month.new_mrr_usd_per_month,
        per_month.monthly_churn_rate,
        case
            when per_month.monthly_churn_rate = 0 then cast(months.months_ahead as double)
            else
                (1 - power(1 - per_month.monthly_churn_rate, months.months_ahead))
                / per_month.monthly_churn_rate
        end as surviving_cohorts
    from per_month
    cross join months
),

by_segment as (
    select
        segment,
        months_ahead,
        cast(new_logos_per_month as decimal(38, 10)) as new_logos_per_month,
        cast(new_mrr_usd_per_month as decimal(38, 10)) as new_mrr_usd_per_month,
        monthly_churn_rate,
        cast(new_logos_per_month * surviving_cohorts as decimal(38, 10)) as new_accounts,
        cast(new_mrr_usd_per_month * surviving_cohorts as decimal(38, 10)) as new_revenue_usd
    from carried
),

with_all as (
    select * from by_segment
    union all
    select
        'all' as segment,
        months_ahead,
        sum(new_logos_per_month) as new_logos_per_month,
        sum(new_mrr_usd_per_month) as new_mrr_usd_per_month,
        cast(null as double) as monthly_churn_rate,
        sum(new_accounts) as new_accounts,
        sum(new_revenue_usd) as new_revenue_usd
    from by_segment
    group by months_ahead
),

final as (
    select
        with_all.segment || '|' || cast(with_all.months_ahead as {{ dbt.type_string() }})
            as new_business_id,
        with_all.segment,
        cast(with_all.months_ahead as integer) as months_ahead,
        cast(
            {{ dbt.dateadd('month', 'with_all.months_ahead', 'projection_origin.origin_month') }}
            as date
        ) as month,
        projection_origin.origin_month as as_of_month,
        cast(with_all.new_logos_per_month as double) as new_logos_per_month,
        cast(with_all.new_mrr_usd_per_month as decimal(18, 4)) as new_mrr_usd_per_month,
        cast(with_all.monthly_churn_rate as double) as monthly_churn_rate,
        cast(round(with_all.new_accounts, 10) as double) as projected_new_accounts,
        cast(with_all.new_revenue_usd as decimal(18, 4)) as projected_new_revenue_usd
    from with_all
    cross join projection_origin
)

select * from final
