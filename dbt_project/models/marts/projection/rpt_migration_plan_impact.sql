-- Grain: one row per segment x proposal x months ahead (segment, price_model_id, months_ahead);
-- segment `all` is the sum of the segments.
-- What the migration plan does to revenue and bill shock, month by month from the as-of month
-- (docs block migration_plan_impact): the plan's accounts on their current bill until their
-- switch, then on the proposal's, less the transition credit while they are grandfathered;
-- beside it the two references, staying on the current model and switching everyone at the
-- plan's start without a credit. Run-rate columns hold each account's monthly bills as they are;
-- the projected ones scale every bill by the middle scenario of fct_revenue_projection (the
-- segment's projected revenue under the model billing the account that month / its month 0), so
-- the plan is a projection scenario too. Every bill is on the MRR basis (fct_migration_plan), so
-- current_projected_revenue_usd is the projection's middle scenario of the current model, month
-- for month, and proposed_projected_revenue_usd the proposal's.
-- Under customer choice (docs block migration_plan_choice): the plan offers the proposal as an
-- option instead of imposing it. The plan's accounts that would take it (fct_customer_choice)
-- follow the plan, wave, credit and all; the others stay on their current bill, scaled by the
-- current model's projection, every month.
{%- set horizon = var('projection_horizon_months') | int %}
with

plan as (select * from {{ ref('fct_migration_plan') }}),

projection as (select * from {{ ref('fct_revenue_projection') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

choices as (select * from {{ ref('fct_customer_choice') }}),

months_ahead as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series(horizon + 1) }}) as month_offsets
),

current_model as (
    select price_model_id
    from price_models
    where is_current_model
),

-- the middle projection as an index on month 0, per segment and model
projection_index as (
    select
        projection.segment,
        projection.price_model_id,
        projection.months_ahead,
        cast(projection.projected_revenue_usd as double)
        / nullif(month_zero.projected_revenue_usd, 0) as revenue_index
    from projection
    inner join projection as month_zero
        on projection.segment = month_zero.segment
            and projection.price_model_id = month_zero.price_model_id
            and projection.scenario = month_zero.scenario
            and month_zero.months_ahead = 0
    where projection.scenario = 'middle'
),

account_months as (
    select
        plan.account_id,
        plan.segment,
        plan.price_model_id,
        months_ahead.months_ahead,
        cast({{ dbt.dateadd('month', 'months_ahead.months_ahead', 'plan.as_of_month') }} as date)
            as month,
        plan.switch_month,
        plan.grandfathered_until_month,
        plan.current_monthly_usd,
        plan.proposed_monthly_usd,
        plan.transition_credit_usd,
        plan.is_bill_shock_without_credit,
        plan.is_bill_shock_at_switch,
        coalesce(choices.is_choosing_proposal, false) as is_choosing_proposal
    from plan
    cross join months_ahead
    left join choices
        on plan.account_id = choices.account_id
            and plan.price_model_id = choices.price_model_id
),

account_bills as (
    select
        *,
        month >= switch_month as is_switched,
        month >= switch_month and month < grandfathered_until_month as is_in_credit
    from account_months
),

account_plan_bills as (
    select
        account_bills.*,
        case
            when account_bills.is_in_credit then account_bills.transition_credit_usd
            else 0
        end as credit_usd,
        case
            when not account_bills.is_switched then account_bills.current_monthly_usd
            when account_bills.is_in_credit
                then account_bills.proposed_monthly_usd - account_bills.transition_credit_usd
            else account_bills.proposed_monthly_usd
        end as plan_usd,
        coalesce(current_index.revenue_index, 1) as current_index,
        coalesce(proposal_index.revenue_index, 1) as proposal_index
    from account_bills
    cross join current_model
    left join projection_index as current_index
        on account_bills.segment = current_index.segment
            and current_model.price_model_id = current_index.price_model_id
            and account_bills.months_ahead = current_index.months_ahead
    left join projection_index as proposal_index
        on account_bills.segment = proposal_index.segment
            and account_bills.price_model_id = proposal_index.price_model_id
            and account_bills.months_ahead = proposal_index.months_ahead
),

by_segment as (
    select
        segment,
        price_model_id,
        months_ahead,
        month,
        count(*) as plan_accounts,
        sum(case when is_switched then 1 else 0 end) as switched_accounts,
        sum(case when is_in_credit and credit_usd > 0 then 1 else 0 end) as credited_accounts,
        sum(case when month = switch_month then 1 else 0 end) as switching_accounts,
        sum(case when month = switch_month and is_bill_shock_without_credit then 1 else 0 end)
            as shocked_without_credit_accounts,
        sum(case when month = switch_month and is_bill_shock_at_switch then 1 else 0 end)
            as shocked_at_switch_accounts,
        sum(current_monthly_usd) as current_revenue_usd,
        sum(case when months_ahead = 0 then current_monthly_usd else proposed_monthly_usd end)
            as proposed_revenue_usd,
        sum(case when months_ahead = 0 then current_monthly_usd else plan_usd end)
            as plan_revenue_usd,
        sum(case when months_ahead = 0 then 0 else credit_usd end) as transition_credits_usd,
        sum(current_monthly_usd * current_index) as current_projected_revenue_usd,
        sum(
            case
                when months_ahead = 0 then current_monthly_usd
                else proposed_monthly_usd * proposal_index
            end
        ) as proposed_projected_revenue_usd,
        sum(
            case
                when months_ahead = 0 then current_monthly_usd
                when is_switched then plan_usd * proposal_index
                else plan_usd * current_index
            end
        ) as plan_projected_revenue_usd,
        sum(case when is_choosing_proposal then 1 else 0 end) as choosing_accounts,
        sum(
            case
                when months_ahead = 0 or not is_choosing_proposal then current_monthly_usd
                else plan_usd
            end
        ) as plan_choice_revenue_usd,
        sum(
            case
                when months_ahead = 0 then current_monthly_usd
                when not is_choosing_proposal then current_monthly_usd * current_index
                when is_switched then plan_usd * proposal_index
                else plan_usd * current_index
            end
        ) as plan_choice_projected_revenue_usd
    from account_plan_bills
    group by segment, price_model_id, months_ahead, month
),

with_all as (
    select * from by_segment
    union all
    select
        'all' as segment,
        price_model_id,
        months_ahead,
        month,
        sum(plan_accounts) as plan_accounts,
        sum(switched_accounts) as switched_accounts,
        sum(credited_accounts) as credited_accounts,
        sum(switching_accounts) as switching_accounts,
        sum(shocked_without_credit_accounts) as shocked_without_credit_accounts,
        sum(shocked_at_switch_accounts) as shocked_at_switch_accounts,
        sum(current_revenue_usd) as current_revenue_usd,
        sum(proposed_revenue_usd) as proposed_revenue_usd,
        sum(plan_revenue_usd) as plan_revenue_usd,
        sum(transition_credits_usd) as transition_credits_usd,
        sum(current_projected_revenue_usd) as current_projected_revenue_usd,
        sum(proposed_projected_revenue_usd) as proposed_projected_revenue_usd,
        sum(plan_projected_revenue_usd) as plan_projected_revenue_usd,
        sum(choosing_accounts) as choosing_accounts,
        sum(plan_choice_revenue_usd) as plan_choice_revenue_usd,
        sum(plan_choice_projected_revenue_usd) as plan_choice_projected_revenue_usd
    from by_segment
    group by price_model_id, months_ahead, month
),

final as (
    select
        segment || '|' || price_model_id || '|' || cast(months_ahead as {{ dbt.type_string() }})
            as migration_plan_impact_id,
        segment,
        price_model_id,
        cast(months_ahead as integer) as months_ahead,
        month,
        cast(plan_accounts as {{ dbt.type_bigint() }}) as plan_accounts,
        cast(switched_accounts as {{ dbt.type_bigint() }}) as switched_accounts,
        cast(credited_accounts as {{ dbt.type_bigint() }}) as credited_accounts,
        cast(switching_accounts as {{ dbt.type_bigint() }}) as switching_accounts,
        cast(shocked_without_credit_accounts as {{ dbt.type_bigint() }})
            as shocked_without_credit_accounts,
        cast(shocked_at_switch_accounts as {{ dbt.type_bigint() }}) as shocked_at_switch_accounts,
        cast(current_revenue_usd as decimal(18, 4)) as current_revenue_usd,
        cast(proposed_revenue_usd as decimal(18, 4)) as proposed_revenue_usd,
        cast(plan_revenue_usd as decimal(18, 4)) as plan_revenue_usd,
        cast(transition_credits_usd as decimal(18, 4)) as transition_credits_usd,
        cast(current_projected_revenue_usd as decimal(18, 4)) as current_projected_revenue_usd,
        cast(proposed_projected_revenue_usd as decimal(18, 4)) as proposed_projected_revenue_usd,
        cast(plan_projected_revenue_usd as decimal(18, 4)) as plan_projected_revenue_usd,
        cast(choosing_accounts as {{ dbt.type_bigint() }}) as choosing_accounts,
        cast(plan_choice_revenue_usd as decimal(18, 4)) as plan_choice_revenue_usd,
        cast(plan_choice_projected_revenue_usd as decimal(18, 4))
            as plan_choice_projected_revenue_usd
    from with_all
)

select * from final
