-- Grain: one row per price model x prepaid pool component x account x alert level
-- (price_model_id, component_id, account_id, alert_pct); only levels the account reached.
-- When each account's usage would have reached each alert of a proposal's prepaid pool: the first
-- and the latest month, and in how many months (a month that reaches 100% also reaches 90% and
-- 70%). The paper invoice prints the account's own alert dates from here.
with

lines as (
    select * from {{ ref('fct_shadow_invoice_lines') }}
    where charge_model = 'prepaid_pool'
        and pool_alert_pct > 0
),

levels as (
    select 70 as alert_pct
    union all
    select 90 as alert_pct
    union all
    select 100 as alert_pct
),

final as (
    select
        lines.price_model_id,
        lines.component_id,
        lines.account_id,
        cast(levels.alert_pct as integer) as alert_pct,
        min(lines.month) as first_month,
        max(lines.month) as latest_month,
        cast(count(*) as {{ dbt.type_bigint() }}) as months_reached
    from lines
    inner join levels
        on lines.pool_alert_pct >= levels.alert_pct
    group by lines.price_model_id, lines.component_id, lines.account_id, levels.alert_pct
)

select * from final
