-- Grain: exactly one row, also on an empty warehouse (then every timestamp is null).
with

export_timestamps as (select * from {{ ref('int_export_timestamps_aggregated') }}),

final as (
    select
        data_as_of,
        as_of_month,
        accounts_last_updated_at,
        plans_last_effective_from,
        subscriptions_last_updated_at,
        seat_events_last_effective_at,
        usage_events_last_occurred_at,
        invoices_last_issued_at,
        support_tickets_last_created_at,
        fx_rates_last_rate_date,
        last_loaded_at
    from export_timestamps
)

select * from final
