-- Grain: one row per account x proposal (account_id, price_model_id): every account paying at the
-- last month of data (MRR above zero: the existing accounts, those an option could be offered
-- to), under every price model but the current one.
-- Customer choice, written once in the docs block customer_choice (_decision__docs.md): offered
-- the proposal beside the current model, the account compares what it paid over the trailing
-- choice_window_months (its MRR summed over the window's months, the basis of the pilot list)
-- with what the proposal would have billed it over the same months (its shadow charges), and
-- takes the proposal only when it saves at least choice_inertia_pct of its bill.
-- The rule is macro customer_choice_query, which rpt_rating_sql also publishes for the Shadow
-- billing what-if.
with

choices as (
    {{ customer_choice_query(
        ref('fct_account_month'), ref('fct_shadow_invoice'), ref('dim_price_models')
    ) | indent(4) }}
)

select * from choices
