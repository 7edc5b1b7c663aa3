-- Grain: one row per pilot model x pilot account, and one per pilot model for the whole pilot
-- (pilot_model_id, scope, account_id).
-- The shadow prediction made at the switch beside what happened (docs block pilot_prediction):
-- before the switch, shadow billing rated each pilot account under the model it was moved to; the
-- monthly average of those charges over the readout_history_months paying months before the
-- switch month is what the pilot was expected to bill. After the switch the account really is
-- billed under that model, and its MRR (the same charges, now invoiced) over its paying months
-- from the switch month on is what happened. Like with like: both are the assigned model's
-- charges of the account's own months, on the MRR basis. The `pilot` row sums the averages of the
-- accounts that paid both before and after, so an account that churned is judged by the
-- readout's churn, not here.
{%- set history = var('readout_history_months') | int %}
with

arms as (select * from {{ ref('int_pilot_arms') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

rated as (select * from {{ ref('int_account_months_rated_by_price_model') }}),

pilots as (
    select
        pilot_model_id,
        account_id,
        switch_month
    from arms
    where arm = 'pilot'
),

model_charges as (
    select
        account_id,
        month,
        price_model_id,
        sum(amount_usd) as charges_usd
    from rated
    group by account_id, month, price_model_id
),

before_months as (
    select
        pilots.pilot_model_id,
        pilots.account_id,
        count(*) as months_before,
        avg(account_months.mrr_usd) as mrr_before_usd,
        avg(coalesce(model_charges.charges_usd, 0)) as predicted_mrr_usd
    from pilots
    inner join account_months
        on pilots.account_id = account_months.account_id
            and pilots.switch_month > account_months.month
            and {{ dbt.dateadd('month', -history, 'pilots.switch_month') }}
            <= account_months.month
            and account_months.mrr_usd > 0
    left join model_charges
        on account_months.account_id = model_charges.account_id
            and account_months.month = model_charges.month
            and pilots.pilot_model_id = model_charges.price_model_id
    group by pilots.pilot_model_id, pilots.account_id
),

after_months as (
    select
        pilots.pilot_model_id,
        pilots.account_id,
        count(*) as months_after,
        avg(account_months.mrr_usd) as mrr_after_usd
    from pilots
    inner join account_months
        on pilots.account_id = account_months.account_id
            and pilots.switch_month <= account_months.month
            and account_months.mrr_usd > 0
    group by pilots.pilot_model_id, pilots.account_id
),

accounts as (
    select
        pilots.pilot_model_id,
        cast('account' as {{ dbt.type_string() }}) as scope,
        pilots.account_id,
        pilots.switch_month,
        cast(coalesce(before_months.months_before, 0) as integer) as months_before,
        cast(coalesce(after_months.months_after, 0) as integer) as months_after,
        cast(1 as integer) as accounts,
        cast(before_months.mrr_before_usd as decimal(18, 4)) as mrr_before_usd,
        cast(before_months.predicted_mrr_usd as decimal(18, 4)) as predicted_mrr_usd,
        cast(after_months.mrr_after_usd as decimal(18, 4)) as mrr_after_usd
    from pilots
    left join before_months
        on pilots.pilot_model_id = before_months.pilot_model_id
            and pilots.account_id = before_months.account_id
    left join after_months
        on pilots.pilot_model_id = after_months.pilot_model_id
            and pilots.account_id = after_months.account_id
),

whole_pilot as (
    select
        pilot_model_id,
        cast('pilot' as {{ dbt.type_string() }}) as scope,
        cast(null as {{ dbt.type_string() }}) as account_id,
        min(switch_month) as switch_month,
        cast(max(months_before) as integer) as months_before,
        cast(max(months_after) as integer) as months_after,
        cast(count(*) as integer) as accounts,
        cast(sum(mrr_before_usd) as decimal(18, 4)) as mrr_before_usd,
        cast(sum(predicted_mrr_usd) as decimal(18, 4)) as predicted_mrr_usd,
        cast(sum(mrr_after_usd) as decimal(18, 4)) as mrr_after_usd
    from accounts
    where months_before > 0 and months_after > 0
    group by pilot_model_id
),

unioned as (
    select * from accounts
    union all
    select * from whole_pilot
),

final as (
    select
        pilot_model_id || '|' || scope || coalesce('|' || account_id, '') as pilot_prediction_id,
        pilot_model_id,
        scope,
        account_id,
        switch_month,
        months_before,
        months_after,
        accounts,
        mrr_before_usd,
        predicted_mrr_usd,
        mrr_after_usd,
        round(
            cast(predicted_mrr_usd as double) / nullif(cast(mrr_before_usd as double), 0) - 1, 10
        ) as predicted_change_pct,
        round(
            cast(mrr_after_usd as double) / nullif(cast(mrr_before_usd as double), 0) - 1, 10
        ) as realised_change_pct,
        round(
            cast(mrr_after_usd as double) / nullif(cast(predicted_mrr_usd as double), 0) - 1, 10
        ) as prediction_error_pct
    from unioned
)

select * from final
