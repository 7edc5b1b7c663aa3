-- Grain: one row per origin month x account x metric (account_id, month, metric).
-- The quantities the revenue projection and its backtest start from, on the MRR basis
-- (int_projection_quantities): an input of the Projection page's re-projection
-- (rpt_projection_sql), which grows them under edited assumptions.
with

quantities as (select * from {{ ref('int_projection_quantities') }}),

final as (
    select
        account_id || '|' || cast(month as {{ dbt.type_string() }}) || '|' || metric
            as projection_quantity_id,
        account_id,
        month,
        metric,
        cast(quantity as decimal(38, 12)) as quantity,
        cast(events as {{ dbt.type_bigint() }}) as events,
        cast(momentum_log_growth as double) as momentum_log_growth
    from quantities
)

select * from final
