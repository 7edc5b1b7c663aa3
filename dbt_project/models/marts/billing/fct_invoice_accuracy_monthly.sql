-- Grain: one row per month x segment (segment 'all' for the total), for the months that have
-- judged lines. The month is the month the invoice was issued (for an expected line of a period
-- with no invoice, the period start's month). Only reconciliation rows with is_in_accuracy count:
-- lines of void and draft invoices and the manual adjustments are out (see the reconciliation).
-- The amount share weighs each row by its amount at stake, the larger of |expected| and
-- |invoiced|, in USD at the rate of the issue date; a row whose currency has no rate is counted
-- in lines_without_fx_rate and left out of the amount share, never guessed.
with

reconciled as (select * from {{ ref('int_invoice_lines_reconciled') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

fx_rates as (select * from {{ ref('int_fx_rates_as_of_day') }}),

judged as (
    select
        reconciled.reconciliation_id,
        reconciled.invoice_month as month,
        accounts.segment,
        reconciled.currency,
        cast(coalesce(reconciled.issued_at, reconciled.period_start) as date) as rate_date,
        reconciled.is_match,
        reconciled.mismatch_reason,
        case
            when abs(coalesce(reconciled.expected_amount, 0)) > abs(reconciled.invoiced_amount)
                then abs(coalesce(reconciled.expected_amount, 0))
            else abs(reconciled.invoiced_amount)
        end as amount_at_stake
    from reconciled
    inner join accounts
        on reconciled.account_id = accounts.account_id
    where reconciled.is_in_accuracy
),

converted as (
    select
        judged.*,
        case
            when judged.currency = 'USD' then judged.amount_at_stake
            else judged.amount_at_stake * fx_rates.usd_per_unit
        end as amount_at_stake_usd
    from judged
    left join fx_rates
        on {{ fx_rate_in_force('fx_rates', 'judged.currency', 'judged.rate_date') }}
),

by_segment as (
    select
        month,
        segment,
        count(*) as judged_lines,
        sum(case when is_match then 1 else 0 end) as matching_lines,
        sum(case when mismatch_reason in ('missing_proration', 'expected_line_never_invoiced')
                then 1
            else 0
        end) as missing_lines,
        sum(case when amount_at_stake_usd is null then 1 else 0 end) as lines_without_fx_rate,
        sum(amount_at_stake_usd) as judged_amount_usd,
        sum(case when is_match then amount_at_stake_usd else 0 end) as matching_amount_usd
    from converted
    group by month, segment
),

all_segments as (
    select
        month,
        'all' as segment,
        sum(judged_lines) as judged_lines,
        sum(matching_lines) as matching_lines,
        sum(missing_lines) as missing_lines,
        sum(lines_without_fx_rate) as lines_without_fx_rate,
        sum(judged_amount_usd) as judged_amount_usd,
        sum(matching_amount_usd) as matching_amount_usd
    from by_segment
    group by month
),

unioned as (
    select * from by_segment
    union all
    select * from all_segments
),

final as (
    select
        month,
        segment,
        cast(judged_lines as {{ dbt.type_bigint() }}) as judged_lines,
        cast(matching_lines as {{ dbt.type_bigint() }}) as matching_lines,
        cast(judged_lines - matching_lines as {{ dbt.type_bigint() }}) as mismatched_lines,
        cast(missing_lines as {{ dbt.type_bigint() }}) as missing_lines,
        cast(matching_lines as double) / nullif(judged_lines, 0) as line_match_rate,
        cast(coalesce(judged_amount_usd, 0) as decimal(18, 4)) as judged_amount_usd,
        cast(coalesce(matching_amount_usd, 0) as decimal(18, 4)) as matching_amount_usd,
        cast(matching_amount_usd as double) / nullif(judged_amount_usd, 0) as amount_match_rate,
        cast(lines_without_fx_rate as {{ dbt.type_bigint() }}) as lines_without_fx_rate,
        cast({{ var('invoice_accuracy_bar') }} as double) as accuracy_bar,
        cast(matching_lines as double) / nullif(judged_lines, 0)
        > {{ var('invoice_accuracy_bar') }} as meets_bar
    from unioned
)

select * from final
