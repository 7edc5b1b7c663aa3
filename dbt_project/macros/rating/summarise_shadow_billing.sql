{#- Per price model and segment (and `all`), what a model would have done to the portfolio: the
    query behind fct_price_model_guardrails, and, published in rpt_rating_sql, behind the
    dashboard's what-if, so an edited proposal is judged exactly as a shipped one.

    `shadow_invoices` holds one row per account-month and model: account_id, month, segment,
    price_model_id, actual_usd, shadow_usd, cost_to_serve_usd, is_billed, is_bill_shock,
    shadow_uncapped_usd, is_over_cap and is_bill_shock_uncapped (the spend caps' effect).
    Winners and losers, and the delta distribution, compare each account's totals over all its
    rated months (annual plans bill once a year, so a single month says little). -#}
{% macro summarise_shadow_billing(shadow_invoices) -%}
with

shadow_invoices as (
    select
        account_id,
        month,
        segment,
        price_model_id,
        actual_usd,
        shadow_usd,
        cost_to_serve_usd,
        is_billed,
        is_bill_shock,
        shadow_uncapped_usd,
        is_over_cap,
        is_bill_shock_uncapped
    from {{ shadow_invoices }}
),

segmented as (
    select * from shadow_invoices
    union all
    select
        account_id,
        month,
        'all' as segment,
        price_model_id,
        actual_usd,
        shadow_usd,
        cost_to_serve_usd,
        is_billed,
        is_bill_shock,
        shadow_uncapped_usd,
        is_over_cap,
        is_bill_shock_uncapped
    from shadow_invoices
),

per_account as (
    select
        price_model_id,
        segment,
        account_id,
        sum(actual_usd) as actual_usd,
        sum(shadow_usd) as shadow_usd,
        avg(shadow_usd) as mean_shadow_usd,
        stddev_samp(shadow_usd) as stddev_shadow_usd,
        count(*) as months
    from segmented
    group by price_model_id, segment, account_id
),

per_account_deltas as (
    select
        *,
        case when actual_usd > 0 then {{ double_quotient('shadow_usd', 'actual_usd') }} - 1 end
        {#- one line once compiled, as the dashboard's SQL has it #} as delta_pct,
        case when mean_shadow_usd > 0 then stddev_shadow_usd / mean_shadow_usd end
            as invoice_variance
    from per_account
),

account_summary as (
    select
        price_model_id,
        segment,
        count(*) as accounts,
        sum(
            case when delta_pct > {{ var('winner_loser_threshold_pct') }} then 1 else 0 end
        ) as accounts_paying_more,
        sum(
            case when delta_pct < -{{ var('winner_loser_threshold_pct') }} then 1 else 0 end
        ) as accounts_paying_less,
        count(delta_pct) as accounts_compared,
        percentile_cont(0.10) within group (order by delta_pct) as delta_pct_p10,
        percentile_cont(0.50) within group (order by delta_pct) as delta_pct_p50,
        percentile_cont(0.90) within group (order by delta_pct) as delta_pct_p90,
        percentile_cont(0.99) within group (order by delta_pct) as delta_pct_p99,
        -- Rounded: a parallel sum of doubles differs in its last bits from build to build.
        round(avg(invoice_variance), 9) as invoice_variance
    from per_account_deltas
    group by price_model_id, segment
),

monthly_shock as (
    select
        price_model_id,
        segment,
        month,
        sum(case when is_billed then 1 else 0 end) as billed_accounts,
        sum(case when is_bill_shock then 1 else 0 end) as shocked_accounts
    from segmented
    group by price_model_id, segment, month
),

shock_summary as (
    select
        price_model_id,
        segment,
        sum(billed_accounts) as billed_account_months,
        sum(shocked_accounts) as shocked_account_months,
        max(
            case
                when billed_accounts > 0
                    then cast(shocked_accounts as double) / billed_accounts
            end
        ) as max_monthly_bill_shock_rate
    from monthly_shock
    group by price_model_id, segment
),

money_summary as (
    select
        price_model_id,
        segment,
        count(*) as account_months,
        sum(actual_usd) as actual_usd,
        sum(shadow_usd) as shadow_usd,
        sum(cost_to_serve_usd) as cost_to_serve_usd,
        sum(shadow_uncapped_usd - shadow_usd) as revenue_given_up_usd,
        sum(case when is_over_cap then 1 else 0 end) as over_cap_account_months,
        sum(case when is_bill_shock_uncapped and not is_bill_shock then 1 else 0 end)
            as bill_shock_avoided_account_months
    from segmented
    group by price_model_id, segment
),

summary as (
    select
        money_summary.price_model_id,
        money_summary.segment,
        account_summary.accounts,
        money_summary.account_months,
        cast(money_summary.actual_usd as decimal(18, 4)) as actual_usd,
        cast(money_summary.shadow_usd as decimal(18, 4)) as shadow_usd,
        cast(money_summary.shadow_usd - money_summary.actual_usd as decimal(18, 4))
            as revenue_delta_usd,
        cast(money_summary.shadow_usd - money_summary.actual_usd as double)
        / nullif(money_summary.actual_usd, 0) as revenue_delta_pct,
        cast(account_summary.accounts_paying_less as double)
        / nullif(account_summary.accounts_compared, 0) as winners_share,
        cast(account_summary.accounts_paying_more as double)
        / nullif(account_summary.accounts_compared, 0) as losers_share,
        account_summary.delta_pct_p10,
        account_summary.delta_pct_p50,
        account_summary.delta_pct_p90,
        account_summary.delta_pct_p99,
        cast(money_summary.cost_to_serve_usd as decimal(18, 4)) as cost_to_serve_usd,
        cast(money_summary.actual_usd - money_summary.cost_to_serve_usd as double)
        / nullif(money_summary.actual_usd, 0) as actual_gross_margin,
        cast(money_summary.shadow_usd - money_summary.cost_to_serve_usd as double)
        / nullif(money_summary.shadow_usd, 0) as shadow_gross_margin,
        account_summary.invoice_variance,
        shock_summary.billed_account_months,
        shock_summary.shocked_account_months,
        cast(shock_summary.shocked_account_months as double)
        / nullif(shock_summary.billed_account_months, 0) as bill_shock_rate,
        shock_summary.max_monthly_bill_shock_rate,
        cast(money_summary.revenue_given_up_usd as decimal(18, 4)) as revenue_given_up_usd,
        money_summary.over_cap_account_months,
        money_summary.bill_shock_avoided_account_months
    from money_summary
    inner join account_summary
        on money_summary.price_model_id = account_summary.price_model_id
            and money_summary.segment = account_summary.segment
    inner join shock_summary
        on money_summary.price_model_id = shock_summary.price_model_id
            and money_summary.segment = shock_summary.segment
),

judged as (
    select
        *,
        coalesce(bill_shock_rate > {{ var('guardrail_max_bill_shock_rate') }}, false)
            as fails_bill_shock,
        coalesce(
            revenue_delta_pct < {{ var('guardrail_min_revenue_delta_pct') }}
            or revenue_delta_pct > {{ var('guardrail_max_revenue_delta_pct') }},
            true
        ) as fails_revenue_range
    from summary
),

final as (
    select
        *,
        cast({{ var('guardrail_max_bill_shock_rate') }} as double) as max_bill_shock_rate,
        cast({{ var('guardrail_min_revenue_delta_pct') }} as double) as min_revenue_delta_pct,
        cast({{ var('guardrail_max_revenue_delta_pct') }} as double) as max_revenue_delta_pct,
        not fails_bill_shock and not fails_revenue_range as is_passing,
        case
            when fails_bill_shock and fails_revenue_range
                then 'bill-shock rate above the limit and revenue outside the range'
            when fails_bill_shock then 'bill-shock rate above the limit'
            when fails_revenue_range then 'revenue outside the range'
        end as failure_reason
    from judged
)

select * from final
{%- endmacro %}
