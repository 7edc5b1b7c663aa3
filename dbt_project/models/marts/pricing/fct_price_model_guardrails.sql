-- Grain: one row per price model x segment (segment `all` for the portfolio).
-- What each model would have done to revenue, customers and margin over every rated month, and
-- whether it passes the guardrails (shadow bill-shock rate and revenue range, both vars).
with

guardrails as (
    {{ summarise_shadow_billing(
        "(select account_id, month, segment, price_model_id, actual_usd, shadow_usd,
            cost_to_serve_usd, is_billed, is_bill_shock from "
            ~ ref('fct_shadow_invoice') ~ ")"
    ) | indent(4) }}
),

final as (
    select
        price_model_id,
        segment,
        cast(accounts as {{ dbt.type_bigint() }}) as accounts,
        cast(account_months as {{ dbt.type_bigint() }}) as account_months,
        actual_usd,
        shadow_usd,
        revenue_delta_usd,
        revenue_delta_pct,
        winners_share,
        losers_share,
        delta_pct_p10,
        delta_pct_p50,
        delta_pct_p90,
        delta_pct_p99,
        cost_to_serve_usd,
        actual_gross_margin,
        shadow_gross_margin,
        invoice_variance,
        cast(billed_account_months as {{ dbt.type_bigint() }}) as billed_account_months,
        cast(shocked_account_months as {{ dbt.type_bigint() }}) as shocked_account_months,
        bill_shock_rate,
        max_monthly_bill_shock_rate,
        max_bill_shock_rate,
        min_revenue_delta_pct,
        max_revenue_delta_pct,
        is_passing,
        failure_reason
    from guardrails
)

select * from final
