-- Grain: one row per account x proposal (account_id, price_model_id): every account paying at the
-- last month of data (MRR above zero: the existing accounts, those an option could be offered
-- to), under every price model but the current one.
-- Customer choice, written once in the docs block customer_choice (_decision__docs.md): offered
-- the proposal beside the current model, the account compares what it paid over the trailing
-- choice_window_months (its MRR summed over the window's months, the basis of the pilot list)
-- with what the proposal would have billed it over the same months (its shadow charges), and
-- takes the proposal only when it saves at least choice_inertia_pct of its bill.
{%- set window = var('choice_window_months') | int %}
{%- set inertia = var('choice_inertia_pct') %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

as_of as (
    select max(month) as as_of_month
    from account_months
),

window_bounds as (
    select
        as_of_month,
        cast({{ dbt.dateadd('month', 1 - window, 'as_of_month') }} as date) as window_start_month
    from as_of
),

offered_accounts as (
    select
        account_months.account_id,
        account_months.segment
    from account_months
    inner join window_bounds
        on account_months.month = window_bounds.as_of_month
    where account_months.mrr_usd > 0
),

proposals as (
    select
        price_model_id,
        offered_as
    from price_models
    where not is_current_model
),

current_in_window as (
    select
        account_months.account_id,
        count(*) as window_months,
        sum(coalesce(account_months.mrr_usd, 0)) as current_usd
    from account_months
    inner join window_bounds
        on account_months.month
            between window_bounds.window_start_month and window_bounds.as_of_month
    group by account_months.account_id
),

proposal_in_window as (
    select
        shadow_invoices.account_id,
        shadow_invoices.price_model_id,
        sum(shadow_invoices.shadow_usd) as proposal_usd
    from shadow_invoices
    inner join window_bounds
        on shadow_invoices.month
            between window_bounds.window_start_month and window_bounds.as_of_month
    group by shadow_invoices.account_id, shadow_invoices.price_model_id
),

compared as (
    select
        offered_accounts.account_id,
        offered_accounts.segment,
        proposals.price_model_id,
        proposals.offered_as,
        window_bounds.as_of_month,
        window_bounds.window_start_month,
        current_in_window.window_months,
        current_in_window.current_usd,
        -- a month the proposal did not rate is a month it bills nothing
        coalesce(proposal_in_window.proposal_usd, 0) as proposal_usd
    from offered_accounts
    cross join proposals
    cross join window_bounds
    inner join current_in_window
        on offered_accounts.account_id = current_in_window.account_id
    left join proposal_in_window
        on offered_accounts.account_id = proposal_in_window.account_id
            and proposals.price_model_id = proposal_in_window.price_model_id
),

-- The saving as a fraction of the current bill is rounded to 10 decimals before it meets the
-- threshold, so a saving of exactly 5% is decided as written (it switches).
saved as (
    select
        *,
        current_usd - proposal_usd as saving_usd,
        round(cast(current_usd - proposal_usd as double) / nullif(current_usd, 0), 10)
            as saving_pct
    from compared
),

chosen as (
    select
        *,
        coalesce(saving_usd > 0 and saving_pct >= {{ inertia }}, false) as is_choosing_proposal
    from saved
),

final as (
    select
        account_id || '|' || price_model_id as customer_choice_id,
        account_id,
        segment,
        price_model_id,
        offered_as,
        as_of_month,
        window_start_month,
        cast(window_months as {{ dbt.type_bigint() }}) as window_months,
        cast(current_usd as decimal(18, 4)) as current_usd,
        cast(proposal_usd as decimal(18, 4)) as proposal_usd,
        cast(saving_usd as decimal(18, 4)) as saving_usd,
        saving_pct,
        is_choosing_proposal,
        cast(
            case when is_choosing_proposal then proposal_usd else current_usd end
            as decimal(18, 4)
        ) as chosen_usd,
        case
            when is_choosing_proposal then 'takes the proposal: it saves enough'
            when saving_usd > 0 then 'stays: it would save less than the inertia threshold'
            when saving_usd = 0 then 'stays: it would pay the same'
            else 'stays: it would pay more'
        end as choice_reason
    from chosen
)

select * from final
