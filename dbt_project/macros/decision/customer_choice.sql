{#- Customer choice, written once (docs block customer_choice): the query behind fct_customer_choice
    and fct_customer_choice_by_segment, and the one the Shadow billing what-if runs over an edited
    price book's shadow invoices (rpt_rating_sql publishes both), so an edited proposal is weighed
    as an option by the very rule of the build. -#}


{#- One row per account paying at the last month of `account_months` (account_id, segment, month,
    mrr_usd) x proposal of `price_models` (price_model_id, offered_as, is_current_model): offered
    the proposal beside the current model, the account compares what it paid over the trailing
    choice_window_months (its MRR summed over the window's months) with what the proposal would
    have billed it over the same months (`shadow_invoices`: account_id, month, price_model_id,
    shadow_usd), and takes the proposal only when it saves at least choice_inertia_pct of its
    bill. A whole query. -#}
{% macro customer_choice_query(account_months, shadow_invoices, price_models) -%}
{%- set window = var('choice_window_months') | int %}
{%- set inertia = var('choice_inertia_pct') %}
with

choice_account_months as (select * from {{ account_months }}),

choice_shadow_invoices as (select * from {{ shadow_invoices }}),

choice_price_models as (select * from {{ price_models }}),

as_of as (
    select max(month) as as_of_month
    from choice_account_months
),

window_bounds as (
    select
        as_of_month,
        cast({{ dbt.dateadd('month', 1 - window, 'as_of_month') }} as date) as window_start_month
    from as_of
),

offered_accounts as (
    select
        choice_account_months.account_id,
        choice_account_months.segment
    from choice_account_months
    inner join window_bounds
        on choice_account_months.month = window_bounds.as_of_month
    where choice_account_months.mrr_usd > 0
),

proposals as (
    select
        price_model_id,
        offered_as
    from choice_price_models
    where not is_current_model
),

current_in_window as (
    select
        choice_account_months.account_id,
        count(*) as window_months,
        sum(coalesce(choice_account_months.mrr_usd, 0)) as current_usd
    from choice_account_months
    inner join window_bounds
        on choice_account_months.month
            between window_bounds.window_start_month and window_bounds.as_of_month
    group by choice_account_months.account_id
),

proposal_in_window as (
    select
        choice_shadow_invoices.account_id,
        choice_shadow_invoices.price_model_id,
        sum(choice_shadow_invoices.shadow_usd) as proposal_usd
    from choice_shadow_invoices
    inner join window_bounds
        on choice_shadow_invoices.month
            between window_bounds.window_start_month and window_bounds.as_of_month
    group by choice_shadow_invoices.account_id, choice_shadow_invoices.price_model_id
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
{%- endmacro %}


{#- One row per segment (and `all`) x proposal: the sums over `choices` (customer_choice_query's
    rows) of what the accounts pay now, under the forced switch and under choice (docs blocks
    choice_revenue, forced_switch_revenue, adverse_selection). A whole query. -#}
{% macro customer_choice_by_segment_query(choices) -%}
with

choices as (select * from {{ choices }}),

segmented as (
    select
        segment,
        price_model_id,
        offered_as,
        as_of_month,
        window_start_month,
        is_choosing_proposal,
        current_usd,
        proposal_usd,
        chosen_usd,
        saving_usd
    from choices
    union all
    select
        'all' as segment,
        price_model_id,
        offered_as,
        as_of_month,
        window_start_month,
        is_choosing_proposal,
        current_usd,
        proposal_usd,
        chosen_usd,
        saving_usd
    from choices
),

aggregated as (
    select
        segment,
        price_model_id,
        offered_as,
        as_of_month,
        window_start_month,
        count(*) as accounts,
        sum(case when is_choosing_proposal then 1 else 0 end) as switching_accounts,
        sum(current_usd) as current_usd,
        sum(proposal_usd) as forced_switch_usd,
        sum(chosen_usd) as choice_usd,
        sum(case when is_choosing_proposal then saving_usd else 0 end) as switchers_saving_usd
    from segmented
    group by segment, price_model_id, offered_as, as_of_month, window_start_month
),

final as (
    select
        segment || '|' || price_model_id as customer_choice_segment_id,
        segment,
        price_model_id,
        offered_as,
        as_of_month,
        window_start_month,
        cast(accounts as {{ dbt.type_bigint() }}) as accounts,
        cast(switching_accounts as {{ dbt.type_bigint() }}) as switching_accounts,
        cast(current_usd as decimal(18, 4)) as current_usd,
        cast(forced_switch_usd as decimal(18, 4)) as forced_switch_usd,
        cast(choice_usd as decimal(18, 4)) as choice_usd,
        cast(forced_switch_usd - choice_usd as decimal(18, 4)) as adverse_selection_usd,
        cast(switchers_saving_usd as decimal(18, 4)) as switchers_saving_usd,
        cast(
            case when offered_as = 'option' then choice_usd else forced_switch_usd end
            as decimal(18, 4)
        ) as offered_revenue_usd,
        round(cast(forced_switch_usd as double) / nullif(current_usd, 0) - 1, 10)
            as forced_switch_change_pct,
        round(cast(choice_usd as double) / nullif(current_usd, 0) - 1, 10) as choice_change_pct,
        round(cast(forced_switch_usd - choice_usd as double) / nullif(current_usd, 0), 10)
            as adverse_selection_pct
    from aggregated
)

select * from final
{%- endmacro %}
