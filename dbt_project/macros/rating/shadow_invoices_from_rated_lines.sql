{#- The what-if's shadow invoices: rated lines (rate_usage's output) rounded per component to
    cents and summed per account-month, beside the account-month's actuals, with bill shock judged
    on the shadow totals. `actuals`: account_id, month, segment, actual_usd, cost_to_serve_usd.

    The marts take their bill-shock flags from int_account_months_judged_for_bill_shock, the one
    model that writes the bill-shock rule for every price model; this macro restates that rule for
    price books that exist only in the dashboard, and a test holds both to the same flags on the
    shipped price book. -#}
{% macro shadow_invoices_from_rated_lines(rated_lines, actuals) -%}
with

rated_lines as (select * from {{ rated_lines }}),

actuals as (select * from {{ actuals }}),

shadow_totals as (
    select
        account_id,
        period as month,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as shadow_usd
    from rated_lines
    group by account_id, period, price_model_id
),

joined as (
    select
        shadow_totals.account_id,
        shadow_totals.month,
        actuals.segment,
        shadow_totals.price_model_id,
        actuals.actual_usd,
        cast(shadow_totals.shadow_usd as decimal(18, 4)) as shadow_usd,
        actuals.cost_to_serve_usd,
        shadow_totals.shadow_usd > 0 as is_billed
    from shadow_totals
    inner join actuals
        on shadow_totals.account_id = actuals.account_id
            and shadow_totals.month = actuals.month
),

billed_months as (
    select
        account_id,
        month,
        price_model_id,
        count(*) over (
            partition by account_id, price_model_id
            order by month
            rows between unbounded preceding and 1 preceding
        ) as prior_billed_months,
        sum(shadow_usd) over (
            partition by account_id, price_model_id
            order by month
            rows between 3 preceding and 1 preceding
        ) as prior_three_total_usd
    from joined
    where is_billed
),

flagged as (
    select
        joined.*,
        coalesce(
            joined.is_billed
            and billed_months.prior_billed_months >= 3
            and 3 * joined.shadow_usd
            > {{ var('bill_shock_ratio') }} * billed_months.prior_three_total_usd
            and 3 * joined.shadow_usd - billed_months.prior_three_total_usd
            >= 3 * {{ var('bill_shock_min_usd') }},
            false
        ) as is_bill_shock
    from joined
    left join billed_months
        on joined.account_id = billed_months.account_id
            and joined.month = billed_months.month
            and joined.price_model_id = billed_months.price_model_id
)

select * from flagged
{%- endmacro %}
