-- Grain: one row per subscription per billing period (subscription_id + period_index).
-- Periods run from the anchor (started_at) in steps of the plan's interval, each computed from
-- the anchor (see macro billing_period_start). A period exists when it starts at or before the
-- data's as-of time and before the subscription's cancellation: the billing system issues an
-- invoice at every period start, so these are the periods that have (or should have) an invoice.
-- The last one is still running; its prorations are due on an invoice that does not exist yet.
-- Each period carries the plan price in effect for it: the price row with the latest
-- effective_from on or before the period start's UTC date (plans.effective_from).
with

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

plans as (select * from {{ ref('stg_billing__plans') }}),

export_timestamps as (select * from {{ ref('int_export_timestamps_aggregated') }}),

-- The interval is a property of the plan, the same in all its price rows.
plan_intervals as (
    select
        plan_id,
        max({{ interval_months('billing_interval') }}) as interval_months
    from plans
    group by plan_id
),

subscription_cycles as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.plan_id,
        subscriptions.started_at,
        subscriptions.canceled_at,
        plan_intervals.interval_months,
        export_timestamps.data_as_of
    from subscriptions
    inner join plan_intervals
        on subscriptions.plan_id = plan_intervals.plan_id
    cross join export_timestamps
    where export_timestamps.data_as_of is not null
        and subscriptions.started_at <= export_timestamps.data_as_of
),

-- A fixed number of candidate periods (a compile-time bound, as the month spine has).
period_indexes as (
    select cast(generated_number - 1 as {{ dbt.type_bigint() }}) as period_index
    from ({{ dbt.generate_series(var('month_spine_max_months')) }}) as generated
),

candidate_periods as (
    select
        subscription_cycles.subscription_id,
        subscription_cycles.account_id,
        subscription_cycles.plan_id,
        subscription_cycles.interval_months,
        subscription_cycles.canceled_at,
        subscription_cycles.data_as_of,
        period_indexes.period_index,
        {{ billing_period_start('subscription_cycles.started_at',
            'subscription_cycles.interval_months', 'period_indexes.period_index') }}
            as period_start,
        {{ billing_period_start('subscription_cycles.started_at',
            'subscription_cycles.interval_months', 'period_indexes.period_index + 1') }}
            as period_end
    from subscription_cycles
    cross join period_indexes
    -- the calendar bound only prunes the cross join; the exact bound is in `periods`
    where period_indexes.period_index * subscription_cycles.interval_months
        <= {{ dbt.datediff('subscription_cycles.started_at', 'subscription_cycles.data_as_of',
            'month') }} + 1
),

periods as (
    select
        subscription_id || '|' || cast(period_index as {{ dbt.type_string() }})
            as billing_period_id,
        subscription_id,
        account_id,
        plan_id,
        interval_months,
        period_index,
        cast(period_start as {{ dbt.type_timestamp() }}) as period_start,
        cast(period_end as {{ dbt.type_timestamp() }}) as period_end,
        cast(period_start as date) as period_start_date,
        lead(period_start) over (partition by subscription_id order by period_index)
            as next_period_start
    from candidate_periods
    where period_start <= data_as_of
        and (canceled_at is null or period_start < canceled_at)
),

prices_ranked as (
    select
        periods.billing_period_id,
        plans.plan_name,
        plans.currency,
        plans.seat_unit_amount,
        plans.platform_fee_amount,
        plans.effective_from as price_effective_from,
        row_number() over (
            partition by periods.billing_period_id
            order by plans.effective_from desc
        ) as price_rank
    from periods
    inner join plans
        on periods.plan_id = plans.plan_id
            and periods.period_start_date >= plans.effective_from
),

priced as (
    select
        periods.billing_period_id,
        periods.subscription_id,
        periods.account_id,
        periods.plan_id,
        periods.interval_months,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.period_start_date,
        periods.next_period_start is not null as has_next_period,
        prices_ranked.plan_name,
        prices_ranked.currency,
        prices_ranked.seat_unit_amount,
        prices_ranked.platform_fee_amount,
        prices_ranked.price_effective_from
    from periods
    left join prices_ranked
        on periods.billing_period_id = prices_ranked.billing_period_id
            and prices_ranked.price_rank = 1
)

select * from priced
