-- Grain: one row per segment x month x proposal (segment, month, price_model_id): the segments of
-- the accounts plus `all`, every month of data, every price model of the price book but the
-- current one. The trigger's signals, written once: the signals pool the
-- segment's account-months of fct_account_month (an account's segment is its current one), NRR
-- comes from fct_nrr_monthly and the proposals' shadow bills from fct_shadow_invoice, set against
-- the MRR of the same account-months.
-- Ratios are rounded to 10 decimals before they are compared, so a share of exactly 30% or a
-- change of exactly 10 points meets its threshold however the doubles fall.
{%- set lookback = var('trigger_lookback_months') | int %}
with

account_months as (select * from {{ ref('fct_account_month') }}),

nrr_monthly as (select * from {{ ref('fct_nrr_monthly') }}),

shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

price_models as (select * from {{ ref('dim_price_models') }}),

-- each rated account-month with the MRR it actually had: the revenue change is on the MRR basis
shadow_invoices_with_mrr as (
    select
        shadow_invoices.*,
        coalesce(account_months.mrr_usd, 0) as mrr_usd
    from shadow_invoices
    left join account_months
        on shadow_invoices.account_id = account_months.account_id
            and shadow_invoices.month = account_months.month
),

-- each account-month counts in its own segment and in `all`
segmented_account_months as (
    select
        segment,
        month,
        account_id,
        billable_seats,
        seat_utilization,
        tasks,
        agent_tasks,
        input_tokens + output_tokens as tokens
    from account_months
    union all
    select
        'all' as segment,
        month,
        account_id,
        billable_seats,
        seat_utilization,
        tasks,
        agent_tasks,
        input_tokens + output_tokens as tokens
    from account_months
),

segments as (
    select distinct segment
    from segmented_account_months
),

months as (
    select distinct month
    from account_months
),

-- every segment in every month, so a window of n rows is n months even where a segment is empty
segment_months as (
    select
        segments.segment,
        months.month
    from segments
    cross join months
),

proposals as (
    select price_model_id
    from price_models
    where not is_current_model
),

pooled as (
    select
        segment,
        month,
        count(*) as accounts,
        sum(billable_seats) as billable_seats,
        sum(tasks) as tasks,
        sum(agent_tasks) as agent_tasks,
        sum(tokens) as tokens,
        -- seat utilization is null exactly when the account has no billable seats
        percentile_cont(0.5) within group (
            order by case when billable_seats > 0 then seat_utilization end
        ) as median_seat_utilization
    from segmented_account_months
    group by segment, month
),

monthly as (
    select
        segment_months.segment,
        segment_months.month,
        coalesce(pooled.accounts, 0) as accounts,
        coalesce(pooled.billable_seats, 0) as billable_seats,
        coalesce(pooled.tasks, 0) as tasks,
        coalesce(pooled.agent_tasks, 0) as agent_tasks,
        coalesce(pooled.tokens, 0) as tokens,
        pooled.median_seat_utilization
    from segment_months
    left join pooled
        on segment_months.segment = pooled.segment
            and segment_months.month = pooled.month
),

-- The lookback month's values: null while it is before the data (no row that far back).
with_lookback as (
    select
        *,
        lag(billable_seats, {{ lookback }}) over (partition by segment order by month)
            as lookback_billable_seats,
        lag(tasks, {{ lookback }}) over (partition by segment order by month) as lookback_tasks,
        lag(agent_tasks, {{ lookback }}) over (partition by segment order by month)
            as lookback_agent_tasks,
        lag(tokens, {{ lookback }}) over (partition by segment order by month) as lookback_tokens
    from monthly
),

shares as (
    select
        *,
        round(cast(agent_tasks as double) / nullif(tasks, 0), 10) as automation_share,
        round(cast(lookback_agent_tasks as double) / nullif(lookback_tasks, 0), 10)
            as lookback_automation_share
    from with_lookback
),

signals as (
    select
        shares.segment,
        shares.month,
        shares.accounts,
        shares.billable_seats,
        shares.tasks,
        shares.agent_tasks,
        shares.tokens,
        shares.automation_share,
        round(shares.automation_share - shares.lookback_automation_share, 10)
            as automation_change_6m,
        round(
            cast(shares.billable_seats as double) / nullif(shares.lookback_billable_seats, 0) - 1,
            10
        ) as seat_growth_6m,
        round(cast(shares.tasks as double) / nullif(shares.lookback_tasks, 0) - 1, 10)
            as usage_growth_6m,
        round(cast(shares.tokens as double) / nullif(shares.lookback_tokens, 0) - 1, 10)
            as token_growth_6m,
        round(nrr_monthly.nrr, 10) as nrr,
        round(shares.median_seat_utilization, 10) as median_seat_utilization
    from shares
    left join nrr_monthly
        on shares.segment = nrr_monthly.segment
            and shares.month = nrr_monthly.month
),

-- each proposal's trailing shadow billing, written once
-- (macros/decision/migration_trigger_shadow_windows.sql)
{{ migration_trigger_shadow_windows('shadow_invoices_with_mrr', 'segment_months', 'proposals') }},

-- The signals beside each proposal's trailing shadow billing, judged by the one verdict macro
-- (macros/decision/migration_trigger_judgement.sql) with the vars in force.
signals_and_windows as (
    select
        signals.*,
        shadow_judged.price_model_id,
        shadow_judged.window_months,
        shadow_judged.billed_account_months,
        shadow_judged.shocked_account_months,
        shadow_judged.shadow_usd,
        shadow_judged.actual_usd,
        shadow_judged.shadow_bill_shock_rate,
        shadow_judged.revenue_delta_pct
    from signals
    inner join shadow_judged
        on signals.segment = shadow_judged.segment
            and signals.month = shadow_judged.month
),

{{ migration_trigger_judgement('signals_and_windows') }},

final as (
    select
        segment || '|' || cast(month as {{ dbt.type_string() }}) || '|' || price_model_id
            as migration_trigger_id,
        segment,
        month,
        price_model_id,
        cast(accounts as {{ dbt.type_bigint() }}) as accounts,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(agent_tasks as {{ dbt.type_bigint() }}) as agent_tasks,
        cast(tokens as {{ dbt.type_bigint() }}) as tokens,
        automation_share,
        automation_change_6m,
        seat_growth_6m,
        usage_growth_6m,
        token_growth_6m,
        nrr,
        median_seat_utilization,
        is_value_leaving,
        cast(window_months as {{ dbt.type_bigint() }}) as window_months,
        cast(billed_account_months as {{ dbt.type_bigint() }}) as billed_account_months,
        cast(shocked_account_months as {{ dbt.type_bigint() }}) as shocked_account_months,
        cast(shadow_usd as decimal(18, 4)) as shadow_usd,
        cast(actual_usd as decimal(18, 4)) as actual_usd,
        shadow_bill_shock_rate,
        revenue_delta_pct,
        is_proposal_viable,
        proposal_failure_reason,
        is_triggered,
        triggered_since,
        segment_status
    from trigger_verdicts
)

select * from final
