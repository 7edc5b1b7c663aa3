-- Grain: one row per account x proposal (account_id, price_model_id): every account of the
-- projection's base (MRR > 0 at the as-of month, the existing accounts) under every proposal.
-- The migration plan (docs block migration_plan): who switches when, the old and new monthly bill
-- side by side, and the transition credit that caps the increase at the switch.
-- - Bills are on the MRR basis, the projection's month 0 (int_projection_bases): the account's MRR
--   at the as-of month (current; an annual plan at a twelfth, never the month's invoices) and the
--   proposal's shadow revenue of that month (proposed), so the plan's totals are the projection's
--   and the Seat health page's.
-- - Wave 0 is the running pilot: the accounts the assignments export moved to the proposal
--   (cohort `pilot`) and still bills under it at the plan's start; they switched in the month their
--   assignment starts, and the plan keeps them where they are.
-- - Wave 1 is the pilot: the first migration_pilot_accounts eligible accounts of the segment by the
--   pilot list's fit rank; they switch at the plan's start, the month after the as-of month. Every
--   other account switches at its renewal (the end of its current billing period; the plan's start
--   when it has none), in waves of migration_wave_months from the plan's start: wave 2 switches in
--   the first window, wave 3 in the next ... Within a wave, the pilot list's fit rank orders
--   the accounts (plan_position).
-- - An account a pilot's readout follows (its control group, export or matched, or another
--   proposal's pilot accounts: int_pilot_arms) is held until the readout has as many months after
--   the switch as it compares before it: it switches at its renewal, but not before its pilot's
--   switch month + readout_history_months (held_until_month), and its wave is that month's.
-- - transition_credit_usd = greatest(proposed - current x (1 + migration_max_increase_pct), 0) a
--   month (exact, rounded half-up to 4 decimals), for migration_grandfathering_months from the
--   switch; then the full proposed bill. The total is that monthly credit x the months.
{%- set pilots = var('migration_pilot_accounts') | int %}
{%- set wave_months = var('migration_wave_months') | int %}
{%- set max_increase = var('migration_max_increase_pct') %}
{%- set grandfathering = var('migration_grandfathering_months') | int %}
{%- set readout_months = var('readout_history_months') | int %}
with

pilot_accounts as (select * from {{ ref('fct_pilot_accounts') }}),

bases as (select * from {{ ref('int_projection_bases') }}),

periods as (select * from {{ ref('int_subscription_periods_spined') }}),

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

arms as (select * from {{ ref('int_pilot_arms') }}),

plan_start as (
    select distinct cast({{ dbt.dateadd('month', 1, 'origin_month') }} as date) as plan_start_month
    from bases
    where origin_kind = 'projection'
),

proposals as (
    select distinct price_model_id
    from bases
    where origin_kind = 'projection'
        and not is_current_model
),

-- the accounts a pilot moved to a proposal that still pay under it at the plan's start (an
-- assignment's effective_to is exclusive): they have switched already
on_proposal as (
    select
        assignments.account_id,
        assignments.price_model_id,
        min({{ month_of('assignments.effective_from') }}) as switched_month
    from assignments
    cross join plan_start
    where assignments.cohort = 'pilot'
        and assignments.effective_from < plan_start.plan_start_month
        and (
            assignments.effective_to is null
            or assignments.effective_to > plan_start.plan_start_month
        )
    group by assignments.account_id, assignments.price_model_id
),

-- the accounts a pilot's readout follows, other than the proposal's own pilot accounts: held
-- until the readout has readout_history_months after the switch
held as (
    select
        proposals.price_model_id,
        arms.account_id,
        max(cast({{ dbt.dateadd('month', readout_months, 'arms.switch_month') }} as date))
            as held_until_month
    from arms
    cross join proposals
    where not (arms.arm = 'pilot' and arms.pilot_model_id = proposals.price_model_id)
    group by proposals.price_model_id, arms.account_id
),

-- the account's running billing period: its end is the next renewal
latest_periods as (
    select
        account_id,
        cast(period_end as date) as renewal_date,
        row_number() over (partition by account_id order by period_start desc, period_end asc)
            as recency_rank
    from periods
),

renewals as (
    select
        account_id,
        renewal_date
    from latest_periods
    where recency_rank = 1
),

planned as (
    select
        bases.account_id,
        bases.segment,
        bases.price_model_id,
        bases.origin_month as as_of_month,
        cast({{ dbt.dateadd('month', 1, 'bases.origin_month') }} as date) as plan_start_month,
        renewals.renewal_date,
        coalesce(pilot_accounts.fit_score, 0) as fit_score,
        pilot_accounts.fit_rank,
        coalesce(pilot_accounts.is_pilot_eligible, false) as is_pilot_eligible,
        -- an account already on the proposal has no change ahead: its window mixes months billed
        -- under the proposal with months before the switch
        case
            when on_proposal.switched_month is null then pilot_accounts.bill_change_pct
        end as window_bill_change_pct,
        on_proposal.switched_month,
        held.held_until_month,
        cast(bases.mrr_usd as double) as current_monthly_usd,
        cast(bases.base_usd as double) as proposed_monthly_usd,
        row_number() over (
            partition by bases.segment, bases.price_model_id
            order by
                case when pilot_accounts.is_pilot_eligible then 0 else 1 end asc,
                case when pilot_accounts.fit_rank is null then 1 else 0 end asc,
                pilot_accounts.fit_rank asc,
                bases.account_id asc
        ) as pilot_position
    from bases
    left join pilot_accounts
        on bases.account_id = pilot_accounts.account_id
            and bases.price_model_id = pilot_accounts.price_model_id
    left join renewals
        on bases.account_id = renewals.account_id
    left join on_proposal
        on bases.account_id = on_proposal.account_id
            and bases.price_model_id = on_proposal.price_model_id
    left join held
        on bases.account_id = held.account_id
            and bases.price_model_id = held.price_model_id
    where bases.origin_kind = 'projection'
        and not bases.is_current_model
),

-- the month each account switches: the running pilot's when it switched, wave 1 at the plan's
-- start, the others at their renewal (the plan's start when it has passed), a held account not
-- before its hold ends
switch_months as (
    select
        *,
        is_pilot_eligible and held_until_month is null and switched_month is null
        and pilot_position <= {{ pilots }} as is_first_wave,
        case
            when renewal_date is null or renewal_date < plan_start_month then plan_start_month
            else {{ month_of('renewal_date') }}
        end as renewal_month
    from planned
),

switched as (
    select
        *,
        case
            when switched_month is not null then switched_month
            when is_first_wave then plan_start_month
            when held_until_month > renewal_month then held_until_month
            else renewal_month
        end as switch_month,
        -- in exact decimals, rounded to the cent's hundredth once: a double product fell just
        -- under a half (655.93815) where Spark's exact one did not
        cast(
            greatest(
                cast(proposed_monthly_usd as decimal(18, 4))
                - cast(current_monthly_usd as decimal(18, 4))
                * (1 + cast({{ max_increase }} as decimal(9, 6))),
                0
            ) as decimal(18, 4)
        ) as monthly_credit_usd
    from switch_months
),

months_to_switch as (
    select
        *,
        {{ dbt.datediff('plan_start_month', 'switch_month', 'month') }} as months_to_switch
    from switched
),

waved as (
    select
        *,
        case
            when switched_month is not null then 0
            when is_first_wave then 1
            else 2 + cast(floor(months_to_switch / {{ wave_months }}) as integer)
        end as wave
    from months_to_switch
),

ranked as (
    select
        *,
        row_number() over (
            partition by segment, price_model_id
            order by wave asc, switch_month asc, pilot_position asc
        ) as plan_position
    from waved
),

final as (
    select
        account_id || '|' || price_model_id as migration_plan_id,
        account_id,
        segment,
        price_model_id,
        cast(wave as integer) as wave,
        renewal_date,
        switch_month,
        cast({{ dbt.dateadd('month', grandfathering, 'switch_month') }} as date)
            as grandfathered_until_month,
        as_of_month,
        cast(current_monthly_usd as decimal(18, 4)) as current_monthly_usd,
        cast(proposed_monthly_usd as decimal(18, 4)) as proposed_monthly_usd,
        round(proposed_monthly_usd / nullif(current_monthly_usd, 0) - 1, 10) as delta_pct,
        -- the pilot list's change, over the trailing window: what the pilot's limits judge
        window_bill_change_pct,
        cast(monthly_credit_usd as decimal(18, 4)) as transition_credit_usd,
        cast(monthly_credit_usd * {{ grandfathering }} as decimal(18, 4))
            as transition_credit_total_usd,
        cast(proposed_monthly_usd - monthly_credit_usd as decimal(18, 4)) as billed_at_switch_usd,
        proposed_monthly_usd > {{ var('bill_shock_ratio') }} * current_monthly_usd
        and proposed_monthly_usd - current_monthly_usd >= {{ var('bill_shock_min_usd') }}
            as is_bill_shock_without_credit,
        proposed_monthly_usd - monthly_credit_usd
        > {{ var('bill_shock_ratio') }} * current_monthly_usd
        and proposed_monthly_usd - monthly_credit_usd - current_monthly_usd
        >= {{ var('bill_shock_min_usd') }} as is_bill_shock_at_switch,
        round(fit_score, 10) as fit_score,
        is_pilot_eligible,
        switched_month is not null as is_on_proposal,
        -- an account already on the proposal has nothing left to wait for
        case when switched_month is null then held_until_month end as held_until_month,
        cast(coalesce(fit_rank, pilot_position) as {{ dbt.type_bigint() }}) as fit_rank,
        cast(plan_position as {{ dbt.type_bigint() }}) as plan_position
    from ranked
)

select * from final
