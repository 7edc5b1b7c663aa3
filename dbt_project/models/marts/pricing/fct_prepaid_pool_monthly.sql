-- Grain: one row per price model x prepaid pool component x segment x month (price_model_id,
-- component_id, segment, month); segment `all` for the portfolio.
-- What a proposal's prepaid pool would have meant each month: how many accounts its usage alerts
-- would have reached (70%, 90%, 100% of the month's available units), the unused balance carried
-- into the next month (a liability: prepaid, not yet served) and the units that expired
-- (breakage), both valued at the pool's price per unit (its price over its units).
with

lines as (
    select * from {{ ref('fct_shadow_invoice_lines') }}
    where charge_model = 'prepaid_pool'
),

accounts as (select * from {{ ref('dim_accounts') }}),

components as (
    select * from {{ ref('price_components') }}
    where lower(charge_model) = 'prepaid_pool'
),

valued as (
    select
        lines.price_model_id,
        lines.component_id,
        accounts.segment,
        lines.month,
        lines.account_id,
        lines.pool_alert_pct,
        lines.pool_available_units,
        lines.pool_used_units,
        lines.pool_overage_units,
        lines.pool_expired_units,
        lines.pool_closing_units,
        {{ divide_exactly('components.flat_amount', 'components.pool_units') }} as unit_price_usd
    from lines
    inner join accounts
        on lines.account_id = accounts.account_id
    inner join components
        on lines.price_model_id = components.price_model_id
            and lines.component_id = components.component_id
),

segmented as (
    select * from valued
    union all
    select
        price_model_id,
        component_id,
        'all' as segment,
        month,
        account_id,
        pool_alert_pct,
        pool_available_units,
        pool_used_units,
        pool_overage_units,
        pool_expired_units,
        pool_closing_units,
        unit_price_usd
    from valued
),

final as (
    select
        price_model_id,
        component_id,
        segment,
        month,
        cast(count(*) as {{ dbt.type_bigint() }}) as accounts,
        cast(sum(case when pool_alert_pct >= 70 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as accounts_alerted_70,
        cast(sum(case when pool_alert_pct >= 90 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as accounts_alerted_90,
        cast(sum(case when pool_alert_pct >= 100 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as accounts_alerted_100,
        cast(sum(pool_available_units) as decimal(38, 12)) as available_units,
        cast(sum(pool_used_units) as decimal(38, 12)) as used_units,
        cast(sum(pool_overage_units) as decimal(38, 12)) as overage_units,
        cast(sum(pool_closing_units) as decimal(38, 12)) as unused_units,
        cast(
            sum({{ multiply_exactly('pool_closing_units', 'unit_price_usd') }}) as decimal(18, 4)
        ) as liability_usd,
        cast(sum(pool_expired_units) as decimal(38, 12)) as expired_units,
        cast(
            sum({{ multiply_exactly('pool_expired_units', 'unit_price_usd') }}) as decimal(18, 4)
        ) as breakage_usd
    from segmented
    group by price_model_id, component_id, segment, month
)

select * from final
