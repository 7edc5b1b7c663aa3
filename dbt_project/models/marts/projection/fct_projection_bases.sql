-- Grain: one row per origin x account x price model (origin_kind, account_id, price_model_id).
-- The accounts a projection (and its backtest) starts from, what each model bills them at the
-- origin and whether the switch would shock them (int_projection_bases), with the origin's
-- horizon and whether the account would take the proposal offered as an option: an input of
-- the Projection page's re-projection (rpt_projection_sql).
with

bases as (select * from {{ ref('int_projection_bases') }}),

origins as (select * from {{ ref('int_projection_origins') }}),

final as (
    select
        bases.origin_kind || '|' || bases.account_id || '|' || bases.price_model_id
            as projection_base_id,
        bases.origin_kind,
        bases.origin_month,
        cast(origins.horizon_months as integer) as horizon_months,
        bases.account_id,
        bases.segment,
        bases.price_model_id,
        bases.is_current_model,
        cast(bases.mrr_usd as decimal(18, 4)) as mrr_usd,
        cast(bases.base_usd as decimal(18, 4)) as base_usd,
        bases.is_shocked_at_switch,
        bases.is_choosing_proposal
    from bases
    inner join origins
        on bases.origin_kind = origins.origin_kind
)

select * from final
