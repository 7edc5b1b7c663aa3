-- Grain: one row per segment x proposal (segment, price_model_id): the segments of the accounts
-- plus `all`, every proposal of the price book.
-- What offering the proposal as an option would do to revenue, beside the forced switch (docs
-- blocks choice_revenue, forced_switch_revenue, adverse_selection): the sums over the accounts of
-- fct_customer_choice, over its trailing window.
with

choices as (select * from {{ ref('fct_customer_choice') }}),

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
