-- Grain: one row per subscription per month of its account's month spine in which the
-- subscription is active at the month's end (started before, not canceled by, the first instant of
-- the next month).
-- MRR at the month's end: billable seats (int_subscription_seats_netted_to_month_end,
-- the one reading of the ledger at month ends) x the seat unit amount of the billing period in
-- effect at that instant (+ its platform fee), normalised to one month (annual / 12), in the
-- plan's currency and in USD at the month-end rate (int_fx_rates_as_of_day on the month's last
-- day). The periods and their prices are int_subscription_periods_spined's, the one definition of
-- billing periods. Prorations and one-off lines are not MRR.
with

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

subscription_seats as (select * from {{ ref('int_subscription_seats_netted_to_month_end') }}),

account_months as (select * from {{ ref('int_account_months_spined') }}),

fx_rates as (select * from {{ ref('int_fx_rates_as_of_day') }}),

subscription_months as (
    select
        subscriptions.subscription_id,
        subscriptions.account_id,
        subscriptions.plan_id,
        subscriptions.started_at,
        subscriptions.canceled_at,
        account_months.month,
        cast({{ dbt.dateadd('month', 1, 'account_months.month') }} as {{ dbt.type_timestamp() }})
            as next_month_start
    from subscriptions
    inner join account_months
        on subscriptions.account_id = account_months.account_id
),

active_at_month_end as (
    select
        subscription_id,
        account_id,
        plan_id,
        month,
        next_month_start,
        cast({{ dbt.dateadd('day', -1, 'next_month_start') }} as date) as month_end_date
    from subscription_months
    where started_at < next_month_start
        and (canceled_at is null or canceled_at >= next_month_start)
),

-- The period in effect just before the next month's first instant: it started before that
-- instant and ends at or after it; the subscription's latest period is open-ended (the next one
-- has not started by the data's as-of time).
in_effect_periods as (
    select
        active_at_month_end.subscription_id,
        active_at_month_end.month,
        periods.interval_months,
        periods.period_start,
        periods.currency,
        periods.seat_unit_amount,
        periods.platform_fee_amount
    from active_at_month_end
    inner join periods
        on active_at_month_end.subscription_id = periods.subscription_id
            and active_at_month_end.next_month_start > periods.period_start
            and (
                not periods.has_next_period
                or active_at_month_end.next_month_start <= periods.period_end
            )
),

priced as (
    select
        active_at_month_end.subscription_id,
        active_at_month_end.account_id,
        active_at_month_end.plan_id,
        active_at_month_end.month,
        in_effect_periods.interval_months,
        in_effect_periods.period_start,
        subscription_seats.billable_seats,
        in_effect_periods.currency,
        in_effect_periods.seat_unit_amount,
        in_effect_periods.platform_fee_amount,
        cast(
            (
                subscription_seats.billable_seats * in_effect_periods.seat_unit_amount
                + in_effect_periods.platform_fee_amount
            ) / in_effect_periods.interval_months as decimal(18, 4)
        ) as mrr,
        fx_rates.rate_date as fx_rate_date,
        case
            when in_effect_periods.currency = 'USD' then cast(1 as decimal(18, 8))
            else fx_rates.usd_per_unit
        end as usd_per_unit
    from active_at_month_end
    inner join in_effect_periods
        on active_at_month_end.subscription_id = in_effect_periods.subscription_id
            and active_at_month_end.month = in_effect_periods.month
    inner join subscription_seats
        on active_at_month_end.subscription_id = subscription_seats.subscription_id
            and active_at_month_end.month = subscription_seats.month
    left join fx_rates
        on {{ fx_rate_in_force(
            'fx_rates', 'in_effect_periods.currency', 'active_at_month_end.month_end_date'
        ) }}
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
