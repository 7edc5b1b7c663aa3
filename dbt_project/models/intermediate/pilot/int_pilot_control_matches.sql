-- Grain: one row per pilot account x matched control account (pilot_model_id, pilot_account_id,
-- control_account_id).
-- A control group built from the history when the export names none (docs block
-- pilot_control_group): for each pilot account, the readout_control_matches accounts of the same
-- segment (at the month before its switch) never assigned to any model, paying in that month,
-- whose readout_history_months before the switch are closest. Closeness: the Euclidean distance of
-- the four averages over those months (MRR, billable seats, automation share, seat utilization),
-- each divided by its standard deviation over the segment's paying accounts of that window, so
-- that no feature counts more for its unit; a feature with no spread, or missing, adds nothing.
-- Ties go to the smaller account id.
{%- set history = var('readout_history_months') | int %}
{%- set matches = var('readout_control_matches') | int %}
with

assignments as (select * from {{ ref('stg_billing__price_model_assignments') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

pilots as (
    select
        price_model_id as pilot_model_id,
        account_id,
        cast({{ dbt.date_trunc('month', 'min(effective_from)') }} as date) as switch_month
    from assignments
    where cohort = 'pilot'
    group by price_model_id, account_id
),

windows as (
    select distinct switch_month
    from pilots
),

assigned as (
    select distinct account_id
    from assignments
),

-- every account's averages over the months before each switch month, and its segment and MRR
-- in the month just before it
window_features as (
    select
        windows.switch_month,
        account_months.account_id,
        max(
            case
                when account_months.month = {{ dbt.dateadd('month', -1, 'windows.switch_month') }}
                    then account_months.segment
            end
        ) as segment,
        max(
            case
                when account_months.month = {{ dbt.dateadd('month', -1, 'windows.switch_month') }}
                    then account_months.mrr_usd
            end
        ) as last_mrr_usd,
        avg(cast(account_months.mrr_usd as double)) as mrr_usd,
        avg(cast(account_months.billable_seats as double)) as billable_seats,
        avg(cast(account_months.automation_share as double)) as automation_share,
        avg(cast(account_months.seat_utilization as double)) as seat_utilization
    from windows
    inner join account_months
        on windows.switch_month > account_months.month
            and {{ dbt.dateadd('month', -history, 'windows.switch_month') }} <= account_months.month
    group by windows.switch_month, account_months.account_id
),

paying as (
    select *
    from window_features
    where last_mrr_usd > 0
),

spreads as (
    select
        switch_month,
        segment,
        stddev_samp(mrr_usd) as mrr_usd_sd,
        stddev_samp(billable_seats) as billable_seats_sd,
        stddev_samp(automation_share) as automation_share_sd,
        stddev_samp(seat_utilization) as seat_utilization_sd
    from paying
    group by switch_month, segment
),

candidates as (
    select paying.*
    from paying
    left join assigned
        on paying.account_id = assigned.account_id
    where assigned.account_id is null
),

pilot_features as (
    select
        pilots.pilot_model_id,
        pilots.account_id,
        paying.switch_month,
        paying.segment,
        paying.mrr_usd,
        paying.billable_seats,
        paying.automation_share,
        paying.seat_utilization
    from pilots
    inner join paying
        on pilots.account_id = paying.account_id
            and pilots.switch_month = paying.switch_month
),

distances as (
    select
        pilot_features.pilot_model_id,
        pilot_features.account_id as pilot_account_id,
        candidates.account_id as control_account_id,
        pilot_features.switch_month,
        pilot_features.segment,
        sqrt(
            coalesce(power(
                (pilot_features.mrr_usd - candidates.mrr_usd)
                / nullif(spreads.mrr_usd_sd, 0),
                2
            ), 0)
            + coalesce(power(
                (pilot_features.billable_seats - candidates.billable_seats)
                / nullif(spreads.billable_seats_sd, 0),
                2
            ), 0)
            + coalesce(power(
                (pilot_features.automation_share - candidates.automation_share)
                / nullif(spreads.automation_share_sd, 0),
                2
            ), 0)
            + coalesce(power(
                (pilot_features.seat_utilization - candidates.seat_utilization)
                / nullif(spreads.seat_utilization_sd, 0),
                2
            ), 0)
        ) as distance
    from pilot_features
    inner join candidates
        on pilot_features.switch_month = candidates.switch_month
            and pilot_features.segment = candidates.segment
    inner join spreads
        on pilot_features.switch_month = spreads.switch_month
            and pilot_features.segment = spreads.segment
),

ranked as (
    select
        *,
        row_number() over (
            partition by pilot_model_id, pilot_account_id
            order by round(distance, 10), control_account_id
        ) as match_rank
    from distances
),

final as (
    select
        pilot_model_id,
        pilot_account_id,
        control_account_id,
        switch_month,
        segment,
        cast(match_rank as integer) as match_rank,
        round(distance, 10) as distance
    from ranked
    where match_rank <= {{ matches }}
)

select * from final
