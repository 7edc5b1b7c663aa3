-- Grain: one row per origin x account x price model (origin_kind, account_id, price_model_id).
-- The base a projection starts from: the accounts paying at the origin month (MRR > 0, the
-- existing accounts), with what each model bills them there on the MRR basis: their MRR for the
-- current model (recurring charges, an annual plan at a twelfth, not the month's invoices), the
-- shadow invoice of the month for a proposal. The backtest needs the current model only.
-- An account would be shocked at the switch to a proposal when that bill is more than
-- bill_shock_ratio times its MRR at the origin and higher by at least bill_shock_min_usd: MRR,
-- not the month's invoices, so an annual customer is judged on its monthly equivalent.
-- is_choosing_proposal: offered the proposal beside the current model, the account would take it
-- (fct_customer_choice, the rule written once there; its accounts are these at the as-of month), so
-- the projection under customer choice projects it under the proposal and the others under the
-- current model. False for the current model and for the backtest, which needs no choice.
with

origins as (select * from {{ ref('int_projection_origins') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

choices as (select * from {{ ref('fct_customer_choice') }}),

based as (
    select
        origins.origin_kind,
        origins.origin_month,
        shadow_invoices.account_id,
        shadow_invoices.segment,
        shadow_invoices.price_model_id,
        price_models.is_current_model,
        coalesce(account_months.mrr_usd, 0) as mrr_usd,
        case
            when price_models.is_current_model then coalesce(account_months.mrr_usd, 0)
            else coalesce(shadow_invoices.shadow_usd, 0)
        end as base_usd,
        coalesce(choices.is_choosing_proposal, false) as is_choosing_proposal
    from shadow_invoices
    inner join origins
        on shadow_invoices.month = origins.origin_month
    inner join price_models
        on shadow_invoices.price_model_id = price_models.price_model_id
    inner join account_months
        on shadow_invoices.account_id = account_months.account_id
            and shadow_invoices.month = account_months.month
    left join choices
        on origins.origin_kind = 'projection'
            and origins.origin_month = choices.as_of_month
            and shadow_invoices.account_id = choices.account_id
            and shadow_invoices.price_model_id = choices.price_model_id
    where (origins.origin_kind = 'projection' or price_models.is_current_model)
        and account_months.mrr_usd > 0
),

final as (
    select
        origin_kind,
        origin_month,
        account_id,
        segment,
        price_model_id,
        is_current_model,
        cast(mrr_usd as decimal(18, 4)) as mrr_usd,
        cast(base_usd as decimal(18, 4)) as base_usd,
        not is_current_model
        and base_usd > {{ var('bill_shock_ratio') }} * mrr_usd
        and base_usd - mrr_usd >= {{ var('bill_shock_min_usd') }} as is_shocked_at_switch,
        is_choosing_proposal
    from based
)

select * from final
