{#- Each proposal's trailing shadow billing, the half of the migration trigger that depends on
    the price book, written once.

    `shadow_invoices` holds fct_shadow_invoice's rows (segment, month, price_model_id, is_billed,
    is_bill_shock, shadow_usd; more columns are ignored) with `mrr_usd`, the account-month's MRR
    (fct_account_month: what it actually paid, on the MRR basis, 0 without a row), so the revenue
    change compares the proposal's charges with MRR, as every decision figure does, never with
    invoices (an annual invoice lands in one month); `segment_months` every
    segment (and `all`) in every month of data, `proposals` the price_model_id of every proposal
    judged. Each account-month counts in its own segment and in `all`; a month without a bill is
    zero, so a window of n rows is n months. The trailing window is the var
    `trigger_window_months`: months m-(n-1)..m, fewer at the start of the data.
    fct_migration_triggers splices these common table expressions into its own `with`; the
    dashboard's what-if runs them over an edited price book's re-rated shadow invoices
    (rpt_trigger_sql's `shadow_windows`), then the verdict (migration_trigger_judgement), so an
    edited proposal is judged as the build judges the ones it priced. The macro writes common
    table expressions (no `with`, no trailing comma) ending in `shadow_judged`. -#}
{% macro migration_trigger_shadow_windows(shadow_invoices, segment_months, proposals) -%}
{%- set window = var('trigger_window_months') | int -%}
shadow_by_segment as (
    select
        segment,
        month,
        price_model_id,
        is_billed,
        is_bill_shock,
        shadow_usd,
        mrr_usd as actual_usd
    from {{ shadow_invoices }}
    union all
    select
        'all' as segment,
        month,
        price_model_id,
        is_billed,
        is_bill_shock,
        shadow_usd,
        mrr_usd as actual_usd
    from {{ shadow_invoices }}
),

shadow_monthly as (
    select
        segment,
        month,
        price_model_id,
        sum(case when is_billed then 1 else 0 end) as billed_account_months,
        sum(case when is_bill_shock then 1 else 0 end) as shocked_account_months,
        sum(shadow_usd) as shadow_usd,
        sum(actual_usd) as actual_usd
    from shadow_by_segment
    group by segment, month, price_model_id
),

shadow_grid as (
    select
        windowed_segment_months.segment,
        windowed_segment_months.month,
        windowed_proposals.price_model_id,
        coalesce(shadow_monthly.billed_account_months, 0) as billed_account_months,
        coalesce(shadow_monthly.shocked_account_months, 0) as shocked_account_months,
        coalesce(shadow_monthly.shadow_usd, 0) as shadow_usd,
        coalesce(shadow_monthly.actual_usd, 0) as actual_usd
    from {{ segment_months }} as windowed_segment_months
    cross join {{ proposals }} as windowed_proposals
    left join shadow_monthly
        on windowed_segment_months.segment = shadow_monthly.segment
            and windowed_segment_months.month = shadow_monthly.month
            and windowed_proposals.price_model_id = shadow_monthly.price_model_id
),

-- The trailing window m-(n-1)..m, fewer months at the start of the data.
shadow_trailing as (
    select
        segment,
        month,
        price_model_id,
        count(*) over trailing_window as window_months,
        sum(billed_account_months) over trailing_window as billed_account_months,
        sum(shocked_account_months) over trailing_window as shocked_account_months,
        sum(shadow_usd) over trailing_window as shadow_usd,
        sum(actual_usd) over trailing_window as actual_usd
    from shadow_grid
    window trailing_window as (
        partition by segment, price_model_id
        order by month
        rows between {{ [window - 1, 0] | max }} preceding and current row
    )
),

shadow_judged as (
    select
        *,
        round(cast(shocked_account_months as double) / nullif(billed_account_months, 0), 10)
            as shadow_bill_shock_rate,
        round(cast(shadow_usd as double) / nullif(actual_usd, 0) - 1, 10) as revenue_delta_pct
    from shadow_trailing
)
{%- endmacro %}
