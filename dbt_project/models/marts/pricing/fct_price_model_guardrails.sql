-- Grain: one row per price model x segment (segment `all` for the portfolio).
-- What each model would have done to revenue, customers and margin over every rated month, and
-- whether it passes the guardrails (shadow bill-shock rate and revenue range, both vars).
with

guardrails as (
    {{ summarise_shadow_billing(
        "(select account_id, month, segment, price_model_id, actual_usd, shadow_usd,
            cost_to_serve_usd, is_billed, is_bill_shock, shadow_uncapped_usd, is_over_cap,
            is_bill_shock_uncapped from "
            ~ ref('fct_shadow_invoice') ~ ")"
    ) | indent(4) }}
),

-- The discounts and credits of the same months, which actual_usd leaves out (no model sets them).
adjustments as (
    select
        price_model_id,
        segment,
        sum(actual_adjustments_usd) as actual_adjustments_usd
    from {{ ref('fct_shadow_invoice') }}
    group by price_model_id, segment
    union all
    select
        price_model_id,
        'all' as segment,
        sum(actual_adjustments_usd) as actual_adjustments_usd
    from {{ ref('fct_shadow_invoice') }}
    group by price_model_id
),

final as (
    select
        guardrails.price_model_id,
        guardrails.segment,
        cast(guardrails.accounts as {{ dbt.type_bigint() }}) as accounts,
        cast(guardrails.account_months as {{ dbt.type_bigint() }}) as account_months,
        guardrails.actual_usd,
        cast(adjustments.actual_adjustments_usd as decimal(18, 4)) as actual_adjustments_usd,
        guardrails.shadow_usd,
        guardrails.revenue_delta_usd,
        guardrails.revenue_delta_pct,
        guardrails.winners_share,
        guardrails.losers_share,
        guardrails.delta_pct_p10,
        guardrails.delta_pct_p50,
        guardrails.delta_pct_p90,
        guardrails.delta_pct_p99,
        guardrails.cost_to_serve_usd,
        guardrails.actual_gross_margin,
        guardrails.shadow_gross_margin,
        guardrails.invoice_variance,
        cast(guardrails.billed_account_months as {{ dbt.type_bigint() }}) as billed_account_months,
        cast(guardrails.shocked_account_months as {{ dbt.type_bigint() }})
            as shocked_account_months,
        guardrails.bill_shock_rate,
        guardrails.max_monthly_bill_shock_rate,
        guardrails.max_bill_shock_rate,
        guardrails.min_revenue_delta_pct,
        guardrails.max_revenue_delta_pct,
        guardrails.is_passing,
        guardrails.failure_reason,
        guardrails.revenue_given_up_usd,
        cast(guardrails.over_cap_account_months as {{ dbt.type_bigint() }})
            as over_cap_account_months,
        cast(guardrails.bill_shock_avoided_account_months as {{ dbt.type_bigint() }})
            as bill_shock_avoided_account_months
    from guardrails
    left join adjustments
        on guardrails.price_model_id = adjustments.price_model_id
            and guardrails.segment = adjustments.segment
)

select * from final
