-- Grain: one row per account per month of the account's month spine.
-- MRR of the account at the month's end (its active subscriptions summed) and its movement
-- against the previous month. The label compares MRR in the billing currency, so a
-- euro account whose seats did not change is `unchanged` even though its USD value moved with the
-- rate; that FX translation is its own amount, so the USD waterfall adds up exactly:
-- previous_mrr_usd + mrr_movement_usd + mrr_fx_effect_usd = mrr_usd.
-- An account-month that belongs to a model other than the current one (an assignment in force at
-- the month's end, int_account_months_split_by_price_model) has as MRR what that model charges it
-- for the month (docs block billed_under_assigned_model): its shadow invoice of the month in USD,
-- the price book's currency, for a whole month, while the account has an active subscription at
-- the month's end (0 otherwise, as for the current model).
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

subscription_months as (select * from {{ ref('int_subscriptions_priced_to_month_end') }}),

models_in_force as (select * from {{ ref('int_account_months_split_by_price_model') }}),

rated as (select * from {{ ref('int_account_months_rated_by_price_model') }}),

assigned_month_models as (
    select
        account_id,
        month,
        price_model_id
    from models_in_force
    where is_billed_under_assignment
),

assigned_month_charges as (
    select
        assigned_month_models.account_id,
        assigned_month_models.month,
        coalesce(sum(rated.amount_usd), 0) as charges_usd
    from assigned_month_models
    left join rated
        on assigned_month_models.account_id = rated.account_id
            and assigned_month_models.month = rated.month
            and assigned_month_models.price_model_id = rated.price_model_id
    group by assigned_month_models.account_id, assigned_month_models.month
),

subscriptions_summed as (
    select
        account_id,
        month,
        sum(mrr) as mrr,
        -- one subscription without a rate makes the account's USD MRR unknown, not smaller
        case when count(mrr_usd) = count(*) then sum(mrr_usd) end as mrr_usd,
        max(usd_per_unit) as usd_per_unit,
        sum(billable_seats) as subscribed_seats
    from subscription_months
    group by account_id, month
),

spined as (
    select
        account_months.account_id,
        account_months.month,
        cast(
            case
                when subscriptions_summed.account_id is null then 0
                when assigned_month_charges.account_id is not null
                    then assigned_month_charges.charges_usd
                else subscriptions_summed.mrr
            end as decimal(18, 4)
        ) as mrr,
        -- an account with no active subscription has MRR 0 in every currency
        cast(
            case
                when subscriptions_summed.account_id is null then 0
                when assigned_month_charges.account_id is not null
                    then assigned_month_charges.charges_usd
                else subscriptions_summed.mrr_usd
            end as decimal(18, 4)
        ) as mrr_usd,
        case
            when assigned_month_charges.account_id is not null then 1
            else coalesce(subscriptions_summed.usd_per_unit, 1)
        end as usd_per_unit
    from account_months
    left join subscriptions_summed
        on account_months.account_id = subscriptions_summed.account_id
            and account_months.month = subscriptions_summed.month
    left join assigned_month_charges
        on account_months.account_id = assigned_month_charges.account_id
            and account_months.month = assigned_month_charges.month
),

with_history as (
    select
        *,
        coalesce(lag(mrr) over (partition by account_id order by month), 0) as previous_mrr,
        coalesce(lag(mrr_usd) over (partition by account_id order by month), 0)
            as previous_mrr_usd,
        -- MRR > 0 in any earlier month: tells a reactivation from a new account
        coalesce(
            max(case when mrr > 0 then 1 else 0 end) over (
                partition by account_id
                order by month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) = 1 as had_mrr_before
    from spined
),

classified as (
    select
        *,
        case
            when mrr > 0 and previous_mrr = 0 and not had_mrr_before then 'new'
            when mrr > 0 and previous_mrr = 0 then 'reactivation'
            when mrr = 0 and previous_mrr > 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            when mrr < previous_mrr then 'contraction'
            else 'unchanged'
        end as mrr_movement
    from with_history
),

-- Movements are valued at this month's rate; what is left of the USD change is FX translation.
valued as (
    select
        *,
        cast(
            case
                when mrr_movement = 'churn' then -previous_mrr_usd
                when mrr_movement in ('new', 'reactivation') then mrr_usd
                else (mrr - previous_mrr) * usd_per_unit
            end as decimal(18, 4)
        ) as mrr_movement_usd
    from classified
),

cohorts as (
    select
        account_id,
        min(case when mrr > 0 then month end) as cohort_month
    from valued
    group by account_id
),

final as (
    select
        valued.account_id,
        valued.month,
        cohorts.cohort_month,
        valued.mrr,
        valued.mrr_usd,
        cast(valued.previous_mrr_usd as decimal(18, 4)) as previous_mrr_usd,
        valued.mrr_movement,
        valued.mrr_movement_usd,
        cast(
            valued.mrr_usd - valued.previous_mrr_usd - valued.mrr_movement_usd as decimal(18, 4)
        ) as mrr_fx_effect_usd
    from valued
    inner join cohorts
        on valued.account_id = cohorts.account_id
)

select * from final
