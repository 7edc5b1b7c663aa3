-- Grain: exactly one row, also on an empty warehouse (then every timestamp is null).
-- The data's as-of time: the latest occurred_at, effective_at or issued_at loaded,
-- never later than the last load.
with

accounts as (select * from {{ ref('stg_crm__accounts') }}),

plans as (select * from {{ ref('stg_billing__plans') }}),

subscriptions as (select * from {{ ref('stg_billing__subscriptions') }}),

seat_events as (select * from {{ ref('stg_entitlements__seat_events') }}),

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

invoices as (select * from {{ ref('stg_billing__invoices') }}),

support_tickets as (select * from {{ ref('stg_helpdesk__support_tickets') }}),

fx_rates as (select * from {{ ref('stg_treasury__fx_rates') }}),

accounts_latest as (
    select
        max(updated_at) as accounts_last_updated_at,
        max(_loaded_at) as last_loaded_at
    from accounts
),

plans_latest as (
    select
        max(effective_from) as plans_last_effective_from,
        max(_loaded_at) as last_loaded_at
    from plans
),

subscriptions_latest as (
    select
        max(updated_at) as subscriptions_last_updated_at,
        max(_loaded_at) as last_loaded_at
    from subscriptions
),

seat_events_latest as (
    select
        max(effective_at) as seat_events_last_effective_at,
        max(_loaded_at) as last_loaded_at
    from seat_events
),

usage_events_latest as (
    select
        max(last_occurred_at) as usage_events_last_occurred_at,
        max(last_loaded_at) as last_loaded_at
    from usage_rolled_up
),

invoices_latest as (
    select
        max(issued_at) as invoices_last_issued_at,
        max(_loaded_at) as last_loaded_at
    from invoices
),

support_tickets_latest as (
    select
        max(created_at) as support_tickets_last_created_at,
        max(_loaded_at) as last_loaded_at
    from support_tickets
),

fx_rates_latest as (
    select
        max(rate_date) as fx_rates_last_rate_date,
        max(_loaded_at) as last_loaded_at
    from fx_rates
),

combined as (
    select
        accounts_latest.accounts_last_updated_at,
        plans_latest.plans_last_effective_from,
        subscriptions_latest.subscriptions_last_updated_at,
        seat_events_latest.seat_events_last_effective_at,
        usage_events_latest.usage_events_last_occurred_at,
        invoices_latest.invoices_last_issued_at,
        support_tickets_latest.support_tickets_last_created_at,
        fx_rates_latest.fx_rates_last_rate_date,
        {{ greatest_ignoring_nulls([
            'accounts_latest.last_loaded_at',
            'plans_latest.last_loaded_at',
            'subscriptions_latest.last_loaded_at',
            'seat_events_latest.last_loaded_at',
            'usage_events_latest.last_loaded_at',
            'invoices_latest.last_loaded_at',
            'support_tickets_latest.last_loaded_at',
            'fx_rates_latest.last_loaded_at',
        ]) }} as last_loaded_at
    from accounts_latest
    cross join plans_latest
    cross join subscriptions_latest
    cross join seat_events_latest
    cross join usage_events_latest
    cross join invoices_latest
    cross join support_tickets_latest
    cross join fx_rates_latest
),

latest_business_time as (
    select
        {{ greatest_ignoring_nulls([
            'usage_events_last_occurred_at',
            'seat_events_last_effective_at',
            'invoices_last_issued_at',
        ]) }} as latest_business_at,
        combined.*
    from combined
),

-- The as-of time never runs ahead of the refresh that computed it (the export contract, "Plausible
-- times"): the loader admits a time up to a day past the refresh's start (clock skew), so such
-- a time is capped at the last load, which no refresh's data can be ahead of.
as_of as (
    select
        case
            when
                latest_business_time.last_loaded_at is not null
                and latest_business_time.latest_business_at > latest_business_time.last_loaded_at
                then latest_business_time.last_loaded_at
            else latest_business_time.latest_business_at
        end as data_as_of,
        latest_business_time.*
    from latest_business_time
),

final as (
    select
        data_as_of,
        -- the last complete month (docs block months): the month of data_as_of once the data has
        -- reached the month's last day, else the month before it
        case
            when {{ dbt.dateadd('day', 1, 'data_as_of') }}
                >= {{ dbt.dateadd('month', 1, month_of('data_as_of')) }}
                then {{ month_of('data_as_of') }}
            else cast({{ dbt.dateadd('month', -1, month_of('data_as_of')) }} as date)
        end as as_of_month,
        accounts_last_updated_at,
        plans_last_effective_from,
        subscriptions_last_updated_at,
        seat_events_last_effective_at,
        usage_events_last_occurred_at,
        invoices_last_issued_at,
        support_tickets_last_created_at,
        fx_rates_last_rate_date,
        last_loaded_at
    from as_of
)

select * from final
