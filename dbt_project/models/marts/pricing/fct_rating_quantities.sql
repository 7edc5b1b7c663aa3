-- Grain: one row per rated account-month x metric (account_id, month, metric).
-- The quantities shadow billing rated, with each account-month's actuals beside them: what the
-- dashboard's what-if re-rates (never the events) and compares an edited proposal against.
with

metrics as (select * from {{ ref('int_account_month_metrics_unpivoted') }}),

shadow_billed as (select * from {{ ref('int_account_months_shadow_billed') }}),

-- the actuals do not depend on the model: take them from any one model's rows
actuals as (
    select
        account_id,
        month,
        max(segment) as segment,
        max(actual_usd) as actual_usd,
        max(cost_to_serve_usd) as cost_to_serve_usd
    from shadow_billed
    group by account_id, month
),

final as (
    select
        metrics.account_id,
        metrics.month,
        metrics.metric,
        actuals.segment,
        cast(metrics.quantity as decimal(38, 12)) as quantity,
        cast(metrics.events as {{ dbt.type_bigint() }}) as events,
        cast(actuals.actual_usd as decimal(18, 4)) as actual_usd,
        cast(actuals.cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd
    from metrics
    inner join actuals
        on metrics.account_id = actuals.account_id
            and metrics.month = actuals.month
)

select * from final
