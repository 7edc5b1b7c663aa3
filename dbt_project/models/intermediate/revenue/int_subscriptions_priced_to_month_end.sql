-- Grain: one row per subscription per month of its account's month spine in which the
-- subscription is active at the month's end (started before, not canceled by, the first instant of
-- the next month).
-- MRR (DOMAIN.md) at the month's end: billable seats (int_subscription_seats_netted_to_month_end,
-- the one reading of the ledger at month ends) x the seat unit amount of the billing period
-- in effect at that instant (+ its platform fee), normalised to one month (annual / 12), in the
-- plan's currency and in USD at the month-end rate (the latest rate on or before the month's last
-- day). Prorations and one-off lines are not MRR.
with

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

plans as (select * from {{ ref('stg_billing__plans') }}),

subscription_seats as (select * from {{ ref('int_subscription_seats_netted_to_month_end') }}),

account_months as (select * from {{ ref('int_account_months_spined') }}),

fx_rates as (select * from {{ ref('stg_treasury__fx_rates') }}),

subscription_months as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.plan_id,
        subscriptions.started_at,
        account_months.month,
        cast({{ dbt.dateadd('month', 1, 'account_months.month') }} as {{ dbt.type_timestamp() }})
            as next_month_start
    from subscriptions
    inner join account_months
        on subscriptions.account_id = account_months.account_id
),

active_at_month_end as (
    select subscription_months.*
    from subscription_months
    inner join subscriptions
        on subscription_months.subscription_id = subscriptions.subscription_id
    where subscriptions.started_at < subscription_months.next_month_start
        and (
            subscriptions.canceled_at is null
            or subscriptions.canceled_at >= subscription_months.next_month_start
        )
),

-- The plan rows of a subscription's plan; the interval is the plan's, the same for every price.
plan_intervals as (
    select
        plan_id,
        max(case when billing_interval = 'year' then 12 else 1 end) as interval_months
    from plans
    group by plan_id
),

-- Periods run from the anchor (started_at) in steps of the interval, clamped to the last day of
-- shorter months: the period in effect at a month's end is the last one starting in or before it.
periods as (
    select
        active_at_month_end.*,
        plan_intervals.interval_months,
        {{ dbt.dateadd(
            'month',
            'cast(floor(' ~ dbt.datediff(month_of('active_at_month_end.started_at'),
                'active_at_month_end.month', 'month')
            ~ ' / plan_intervals.interval_months) as ' ~ dbt.type_bigint()
            ~ ') * plan_intervals.interval_months',
            'active_at_month_end.started_at',
        ) }} as period_start
    from active_at_month_end
    inner join plan_intervals
        on active_at_month_end.plan_id = plan_intervals.plan_id
),

-- exports.md: a price applies to periods starting on or after its effective_from.
prices_ranked as (
    select
        periods.subscription_id,
        periods.month,
        plans.currency,
        plans.seat_unit_amount,
        plans.platform_fee_amount,
        row_number() over (
            partition by periods.subscription_id, periods.month
            order by plans.effective_from desc
        ) as recency_rank
    from periods
    inner join plans
        on periods.plan_id = plans.plan_id
            and plans.effective_from <= cast(periods.period_start as date)
),

currency_months as (
    select distinct
        prices_ranked.currency,
        prices_ranked.month
    from prices_ranked
    where prices_ranked.currency != 'USD'
),

month_end_rates_ranked as (
    select
        currency_months.currency,
        currency_months.month,
        fx_rates.rate_date,
        fx_rates.usd_per_unit,
        row_number() over (
            partition by currency_months.currency, currency_months.month
            order by fx_rates.rate_date desc
        ) as recency_rank
    from currency_months
    inner join fx_rates
        on currency_months.currency = fx_rates.currency
            and fx_rates.rate_date
            < cast({{ dbt.dateadd('month', 1, 'currency_months.month') }} as date)
),

month_end_rates as (
    select
        currency,
        month,
        rate_date,
        usd_per_unit
    from month_end_rates_ranked
    where recency_rank = 1
),

priced as (
    select
        periods.subscription_id,
        periods.account_id,
        periods.plan_id,
        periods.month,
        periods.interval_months,
        periods.period_start,
        subscription_seats.billable_seats,
        prices_ranked.currency,
        prices_ranked.seat_unit_amount,
        prices_ranked.platform_fee_amount,
        cast(
            (
                subscription_seats.billable_seats * prices_ranked.seat_unit_amount
                + prices_ranked.platform_fee_amount
            ) / periods.interval_months as decimal(18, 4)
        ) as mrr,
        month_end_rates.rate_date as fx_rate_date,
        case
            when prices_ranked.currency = 'USD' then cast(1 as decimal(18, 8))
            else month_end_rates.usd_per_unit
        end as usd_per_unit
    from periods
    inner join subscription_seats
        on periods.subscription_id = subscription_seats.subscription_id
            and periods.month = subscription_seats.month
    inner join prices_ranked
        on periods.subscription_id = prices_ranked.subscription_id
            and periods.month = prices_ranked.month
            and prices_ranked.recency_rank = 1
    left join month_end_rates
        on prices_ranked.currency = month_end_rates.currency
            and periods.month = month_end_rates.month
),

final as (
    select
        subscription_id,
        account_id,
        plan_id,
        month,
        interval_months,
        period_start,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        currency,
        seat_unit_amount,
        platform_fee_amount,
        mrr,
        fx_rate_date,
        usd_per_unit,
        cast(mrr * usd_per_unit as decimal(18, 4)) as mrr_usd
    from priced
)

select * from final
