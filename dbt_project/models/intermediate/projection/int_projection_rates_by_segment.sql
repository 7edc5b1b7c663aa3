-- Grain: one row per origin x segment x scenario x metric (origin_kind, segment, scenario, metric).
-- The monthly rates a projection applies, measured from the data's own history over the
-- projection_history_months that end at the origin (docs block projection_rates):
-- - logo churn: of the segment's accounts with MRR > 0 at the end of month m-1, the share with
--   MRR 0 at the end of m, pooled over the window (churned / at risk, summed over its months);
-- - growth of each rated quantity (seats, tokens, tasks, resolutions, credits ...) among retained
--   accounts (MRR > 0 at both ends): sum at m / sum at m-1, pooled the same way, minus 1;
-- - the current plan's seat and platform charges grow with the revenue drift of retained
--   accounts: their MRR at m / at m-1, pooled, minus 1 (MRR, not the month's invoice lines, so
--   annual plans do not read as a swing of +1100% and -100%). Prorations are one-off catch-ups of
--   seat changes, not a trend: held at the origin's level (growth 0).
-- Scenarios move each rate by projection_scenario_spread standard errors of its mean, the
-- standard deviation of its monthly values over the square root of their number (worst: churn
-- up, growth down; best: the reverse): the uncertainty of a rate that persists for 24 months is
-- that of its mean, not of one month's noise. The multipliers scale a rate and its spread alike.
-- Churn stays within 0..1, growth at or above -1 (a quantity cannot go negative).
{%- set history = var('projection_history_months') | int %}
with

origins as (select * from {{ ref('int_projection_origins') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

metrics as (select * from {{ ref('int_account_month_metrics_unpivoted') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

-- every account with MRR > 0 at the end of m-1, for each month m of each origin's window
at_risk as (
    select
        origins.origin_kind,
        current_month.segment,
        current_month.month,
        current_month.account_id,
        case when coalesce(current_month.mrr_usd, 0) > 0 then 0 else 1 end as is_churned
    from account_months as current_month
    inner join account_months as previous_month
        on current_month.account_id = previous_month.account_id
            and previous_month.month = {{ dbt.dateadd('month', -1, 'current_month.month') }}
    inner join origins
        on current_month.month
            between {{ dbt.dateadd('month', 1 - history, 'origins.origin_month') }}
            and origins.origin_month
    where previous_month.mrr_usd > 0
),

churn_by_month as (
    select
        origin_kind,
        segment,
        month,
        count(*) as accounts_at_risk,
        sum(is_churned) as churned_accounts,
        cast(sum(is_churned) as double) / count(*) as churn_rate
    from at_risk
    group by origin_kind, segment, month
),

churn_measured as (
    select
        origin_kind,
        segment,
        cast(sum(churned_accounts) as double) / sum(accounts_at_risk) as churn_rate,
        coalesce(stddev_samp(churn_rate), 0) / sqrt(count(*)) as churn_rate_error,
        count(*) as churn_months
    from churn_by_month
    group by origin_kind, segment
),

retained_quantities as (
    select
        at_risk.origin_kind,
        at_risk.segment,
        at_risk.month,
        current_metrics.metric,
        sum(current_metrics.quantity) as quantity,
        sum(coalesce(previous_metrics.quantity, 0)) as previous_quantity
    from at_risk
    inner join metrics as current_metrics
        on at_risk.account_id = current_metrics.account_id
            and at_risk.month = current_metrics.month
    left join metrics as previous_metrics
        on current_metrics.account_id = previous_metrics.account_id
            and current_metrics.metric = previous_metrics.metric
            and previous_metrics.month = {{ dbt.dateadd('month', -1, 'at_risk.month') }}
    where at_risk.is_churned = 0
        and current_metrics.metric not in (
            'plan_seat_charges_usd',
            'plan_platform_fees_usd',
            'plan_proration_charges_usd',
            'plan_proration_credits_usd'
        )
    group by at_risk.origin_kind, at_risk.segment, at_risk.month, current_metrics.metric
),

plan_metrics as (
    select cast('plan_seat_charges_usd' as {{ dbt.type_string() }}) as metric
    union all
    select 'plan_platform_fees_usd' as metric
),

-- the base's own MRR, month over month: every account at risk, a churned one at 0, so that the
-- current plan's charges follow the net revenue retention of the base
base_mrr as (
    select
        at_risk.origin_kind,
        at_risk.segment,
        at_risk.month,
        sum(coalesce(current_month.mrr_usd, 0)) as quantity,
        sum(previous_month.mrr_usd) as previous_quantity
    from at_risk
    inner join account_months as current_month
        on at_risk.account_id = current_month.account_id
            and at_risk.month = current_month.month
    inner join account_months as previous_month
        on at_risk.account_id = previous_month.account_id
            and previous_month.month = {{ dbt.dateadd('month', -1, 'at_risk.month') }}
    group by at_risk.origin_kind, at_risk.segment, at_risk.month
),

plan_charges_retention as (
    select
        base_mrr.origin_kind,
        base_mrr.segment,
        base_mrr.month,
        plan_metrics.metric,
        base_mrr.quantity,
        base_mrr.previous_quantity
    from base_mrr
    cross join plan_metrics
),

retained_growth as (
    select * from retained_quantities
    union all
    select * from plan_charges_retention
),

-- each month's growth as a logarithm, and the month's place in the window (0 at the origin)
growth_by_month as (
    select
        retained_growth.origin_kind,
        retained_growth.segment,
        retained_growth.metric,
        retained_growth.quantity,
        retained_growth.previous_quantity,
        cast(
            {{ dbt.datediff('origins.origin_month', 'retained_growth.month', 'month') }}
            as double
        ) as month_index,
        case
            when retained_growth.previous_quantity > 0 and retained_growth.quantity > 0
                then ln(
                        cast(retained_growth.quantity as double) / retained_growth.previous_quantity
                    )
        end as log_growth
    from retained_growth
    inner join origins
        on retained_growth.origin_kind = origins.origin_kind
),

-- the pooled rate, its error, and a straight line through the monthly logarithms: its slope,
-- the slope's standard error, and where the line stands at the origin
growth_fitted as (
    select
        origin_kind,
        segment,
        metric,
        cast(sum(quantity) as double) / nullif(sum(previous_quantity), 0) - 1 as growth_rate,
        coalesce(
            stddev_samp(
                case
                    when previous_quantity > 0
                        then cast(quantity as double) / previous_quantity - 1
                end
            )
            / sqrt(count(case when previous_quantity > 0 then 1 end)),
            0
        ) as growth_rate_error,
        count(log_growth) as fitted_months,
        avg(log_growth) as log_growth_mean,
        avg(case when log_growth is not null then month_index end) as month_index_mean,
        covar_samp(case when log_growth is not null then month_index end, log_growth)
            as log_growth_covariance,
        var_samp(case when log_growth is not null then month_index end) as month_index_variance,
        var_samp(log_growth) as log_growth_variance
    from growth_by_month
    group by origin_kind, segment, metric
),

growth_trended as (
    select
        *,
        log_growth_covariance / nullif(month_index_variance, 0) as trend_slope,
        sqrt(
            greatest(
                log_growth_variance
                - log_growth_covariance * log_growth_covariance
                / nullif(month_index_variance, 0),
                0
            )
            / nullif((fitted_months - 2) * month_index_variance, 0)
        ) as trend_slope_error
    from growth_fitted
),

-- a trend is followed only where the history shows one: at least projection_trend_min_months
-- fitted months and a slope projection_trend_min_t standard errors away from 0; otherwise the
-- pooled rate holds for every month ahead
growth_measured as (
    select
        origin_kind,
        segment,
        metric,
        growth_rate,
        growth_rate_error,
        -- the current plan's charges follow a trend only when it deepens a decline of the base;
        -- growth is never assumed to quicken, and a slowing trend is left to each account's own
        -- momentum, which fades (docs block projection_growth_trend)
        coalesce(
            fitted_months >= {{ var('projection_trend_min_months') }}
            and abs(trend_slope) > {{ var('projection_trend_min_t') }} * trend_slope_error
            and (
                metric not in ('plan_seat_charges_usd', 'plan_platform_fees_usd')
                or (trend_slope < 0 and log_growth_mean - trend_slope * month_index_mean < 0)
            ),
            false
        ) as is_trended,
        trend_slope,
        log_growth_mean - trend_slope * month_index_mean as trend_level
    from growth_trended
),

metric_names as (
    select distinct metric
    from metrics
),

-- every segment a projection starts from, under every metric the rating engine knows
segment_metrics as (
    select distinct
        bases.origin_kind,
        bases.segment,
        metric_names.metric
    from bases
    cross join metric_names
),

measured as (
    select
        segment_metrics.origin_kind,
        segment_metrics.segment,
        segment_metrics.metric,
        coalesce(churn_measured.churn_rate, 0) as measured_churn_rate,
        coalesce(churn_measured.churn_rate_error, 0) as churn_rate_error,
        coalesce(growth_measured.growth_rate, 0) as measured_growth_rate,
        coalesce(growth_measured.growth_rate_error, 0) as growth_rate_error,
        -- the current plan's charges follow the base's MRR, churned accounts included; the
        -- projection weighs each account by its chance to stay, so the churn comes out of them
        case
            when segment_metrics.metric in ('plan_seat_charges_usd', 'plan_platform_fees_usd')
                then ln(greatest(1 - coalesce(churn_measured.churn_rate, 0), 0.01))
            else 0
        end as churn_log_adjustment,
        coalesce(growth_measured.is_trended, false) as is_growth_trended,
        case when growth_measured.is_trended then growth_measured.trend_slope else 0 end
            as growth_trend_slope,
        case
            when growth_measured.is_trended then growth_measured.trend_level
            when growth_measured.growth_rate > -1
                then ln(1 + growth_measured.growth_rate)
            else 0
        end as growth_trend_level
    from segment_metrics
    left join churn_measured
        on segment_metrics.origin_kind = churn_measured.origin_kind
            and segment_metrics.segment = churn_measured.segment
    left join growth_measured
        on segment_metrics.origin_kind = growth_measured.origin_kind
            and segment_metrics.segment = growth_measured.segment
            and segment_metrics.metric = growth_measured.metric
),

adjusted as (
    select
        origin_kind,
        segment,
        metric,
        measured_churn_rate,
        churn_rate_error,
        case
            when churn_log_adjustment = 0 then measured_growth_rate
            else (1 + measured_growth_rate) / exp(churn_log_adjustment) - 1
        end as measured_growth_rate,
        growth_rate_error,
        is_growth_trended,
        growth_trend_slope,
        growth_trend_level - churn_log_adjustment as growth_trend_level
    from measured
),

-- the rates in force: the macro the Projection page's re-projection runs too (rpt_projection_sql)
{{ projection_rates_applied('adjusted') }}

select * from projection_rates
