{#- The what-if's shadow invoices: rated lines (rate_usage's output) rounded per component to
    cents and summed per account-month, beside the account-month's actuals, with bill shock judged
    on the shadow totals, and again on the totals without the spend caps (bill shock avoided). `actuals`: account_id, month, segment, actual_usd, cost_to_serve_usd.

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
        sum({{ round_half_up_to_cents('amount') }}) as shadow_usd,
        sum({{ round_half_up_to_cents('uncapped_amount') }}) as shadow_uncapped_usd,
        max(case when is_over_cap then 1 else 0 end) = 1 as is_over_cap
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
        shadow_totals.shadow_usd > 0 as is_billed,
        cast(shadow_totals.shadow_uncapped_usd as decimal(18, 4)) as shadow_uncapped_usd,
        shadow_totals.shadow_uncapped_usd > 0 as is_uncapped_billed,
        shadow_totals.is_over_cap
    from shadow_totals
    inner join actuals
        on shadow_totals.account_id = actuals.account_id
            and shadow_totals.month = actuals.month
),

{%- for v in [
    {'suffix': '', 'amount': 'shadow_usd', 'billed': 'is_billed'},
    {'suffix': '_uncapped', 'amount': 'shadow_uncapped_usd', 'billed': 'is_uncapped_billed'},
] %}
billed_months{{ v.suffix }} as (
    {{ prior_billed_months('joined', v.amount, v.billed) }}
),
{% endfor %}
flagged as (
    select
        joined.*,
        {%- for v in [
            {'suffix': '', 'amount': 'shadow_usd', 'billed': 'is_billed'},
            {'suffix': '_uncapped', 'amount': 'shadow_uncapped_usd', 'billed': 'is_uncapped_billed'},
        ] %}
        {{ is_bill_shock(
            'joined.' ~ v.billed ~ ' and billed_months' ~ v.suffix ~ '.prior_billed_months >= 3',
            'joined.' ~ v.amount,
            'billed_months' ~ v.suffix ~ '.prior_three_total_usd'
        ) }} as is_bill_shock{{ v.suffix }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from joined
    {%- for suffix in ['', '_uncapped'] %}
    left join billed_months{{ suffix }}
        on joined.account_id = billed_months{{ suffix }}.account_id
            and joined.month = billed_months{{ suffix }}.month
            and joined.price_model_id = billed_months{{ suffix }}.price_model_id
    {%- endfor %}
)

select * from flagged
{%- endmacro %}
