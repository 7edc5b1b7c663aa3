-- Grain: one row per exported invoice line (line_id), plus one row per expected line that no
-- invoice line carries (line_id null): reconciliation_id is the key of both.
-- Rules, in the order they apply:
-- * Each billing period is reconciled against one invoice: its latest-issued non-void invoice
--   for that subscription and period start. Void invoices were replaced (the generator re-issues
--   them as id + 'r'): their lines are kept, not judged (reconciliation_status void_invoice).
--   A second non-void invoice for the same period is a double bill: its lines have no expectation.
-- * Discount and credit lines are manual adjustments outside the ledger and the price book: kept,
--   not judged (reconciliation_status adjustment), excluded from accuracy.
-- * The periods are those of the model in force (int_billing_periods_in_force): seat periods
--   under the current model, month parts under an assigned model. On an assigned month's invoice a
--   subscription or usage line is a component of the assigned model, named in brackets at the end
--   of its description (`[<model>:<component>]`), and pairs with that component's expected line.
-- * A subscription line whose description names the platform fee is the fee line; any other
--   subscription line is the seat line. Lines pair with expected lines by period, kind and (for
--   prorations) source event; a second line of the same kind on one invoice has no expectation.
-- * Draft invoices are judged (catching an error before it is sent is the point) but kept out of
--   the accuracy share, as bill shock ignores them: nobody has been billed yet.
with

invoices as (select * from {{ ref('stg_billing__invoices') }}),

invoice_lines as (select * from {{ ref('stg_billing__invoice_lines') }}),

periods as (select * from {{ ref('int_billing_periods_in_force') }}),

expected as (select * from {{ ref('int_invoice_lines_expected') }}),

ledger as (select * from {{ ref('int_seat_events_sequenced') }}),

invoices_to_periods as (
    select
        invoices.invoice_id,
        invoices.account_id,
        invoices.subscription_id,
        invoices.status as invoice_status,
        invoices.currency,
        invoices.issued_at,
        invoices.period_start as invoice_period_start,
        periods.billing_period_id,
        periods.period_kind,
        periods.price_model_id,
        case
            when invoices.status = 'void' or periods.billing_period_id is null then null
            else row_number() over (
                    partition by periods.billing_period_id, invoices.status = 'void'
                    order by invoices.issued_at desc, invoices.invoice_id desc
                )
        end as period_invoice_rank
    from invoices
    left join periods
        on invoices.subscription_id = periods.subscription_id
            and invoices.period_start = periods.period_start
),

period_invoices as (
    select
        billing_period_id,
        invoice_id,
        invoice_status,
        issued_at
    from invoices_to_periods
    where period_invoice_rank = 1
),

-- The components an assigned month expects, each with the tag that names it at the end of a
-- line's description: `[<model>:<component>]`.
assigned_components as (
    select distinct
        billing_period_id,
        component_id,
        '[' || price_model_id || ':' || component_id || ']' as component_tag
    from expected
    where line_kind = 'assigned_model'
),

{%- set tag_length = dbt.length('assigned_components.component_tag') %}

lines_classified as (
    select
        invoice_lines.line_id,
        invoice_lines.invoice_id,
        invoice_lines.line_type,
        invoice_lines.description,
        invoice_lines.quantity,
        invoice_lines.unit_amount,
        invoice_lines.amount,
        invoice_lines.source_event_id,
        invoices_to_periods.account_id,
        invoices_to_periods.subscription_id,
        invoices_to_periods.invoice_status,
        invoices_to_periods.currency,
        invoices_to_periods.issued_at,
        invoices_to_periods.invoice_period_start,
        invoices_to_periods.billing_period_id,
        invoices_to_periods.period_invoice_rank,
        invoices_to_periods.price_model_id,
        assigned_components.component_id,
        case
            when invoice_lines.line_type = 'proration' then 'proration'
            when invoices_to_periods.period_kind = 'assigned_month'
                and invoice_lines.line_type in ('subscription', 'usage') then 'assigned_model'
            when invoice_lines.line_type = 'subscription'
                and lower(invoice_lines.description) like '%platform fee%' then 'platform_fee'
            when invoice_lines.line_type = 'subscription' then 'seats'
            when invoice_lines.line_type = 'usage' then 'usage'
            else 'adjustment'
        end as line_kind
    from invoice_lines
    left join invoices_to_periods
        on invoice_lines.invoice_id = invoices_to_periods.invoice_id
    left join assigned_components
        on invoices_to_periods.billing_period_id = assigned_components.billing_period_id
            and invoices_to_periods.period_kind = 'assigned_month'
            and invoice_lines.line_type in ('subscription', 'usage')
            and {{ dbt.right('invoice_lines.description', tag_length) }}
            = assigned_components.component_tag
),

lines_keyed as (
    select
        *,
        case
            when invoice_status = 'void' then 'void_invoice'
            when line_kind = 'adjustment' then 'adjustment'
        end as not_judged_because,
        case
            when period_invoice_rank = 1
                and line_kind in ('seats', 'platform_fee', 'proration', 'assigned_model')
                and (line_kind <> 'assigned_model' or component_id is not null)
                and row_number() over (
                    partition by invoice_id, line_kind, coalesce(source_event_id, component_id, '')
                    order by line_id
                ) = 1
                then billing_period_id || '|' || line_kind || coalesce('|' || source_event_id, '')
                    || coalesce('|' || component_id, '')
        end as expected_line_key
    from lines_classified
),

judged_lines as (
    select *
    from lines_keyed
    where not_judged_because is null
),

paired as (
    select
        coalesce(judged_lines.line_id, 'expected|' || expected.expected_line_key)
            as reconciliation_id,
        judged_lines.line_id,
        coalesce(judged_lines.invoice_id, period_invoices.invoice_id) as invoice_id,
        coalesce(judged_lines.invoice_status, period_invoices.invoice_status) as invoice_status,
        coalesce(judged_lines.account_id, expected.account_id) as account_id,
        coalesce(judged_lines.subscription_id, expected.subscription_id) as subscription_id,
        coalesce(judged_lines.billing_period_id, expected.billing_period_id) as billing_period_id,
        coalesce(judged_lines.invoice_period_start, expected.period_start) as period_start,
        coalesce(judged_lines.issued_at, period_invoices.issued_at) as issued_at,
        coalesce(judged_lines.currency, expected.currency) as currency,
        coalesce(judged_lines.line_type, expected.line_type) as line_type,
        coalesce(judged_lines.line_kind, expected.line_kind) as line_kind,
        judged_lines.description,
        coalesce(judged_lines.source_event_id, expected.source_event_id) as source_event_id,
        coalesce(judged_lines.component_id, expected.component_id) as component_id,
        coalesce(judged_lines.price_model_id, expected.price_model_id) as price_model_id,
        judged_lines.quantity as invoiced_quantity,
        judged_lines.unit_amount as invoiced_unit_amount,
        -- an expected line nobody invoiced was invoiced at zero
        coalesce(judged_lines.amount, 0) as invoiced_amount,
        expected.expected_line_key,
        expected.quantity as expected_quantity,
        expected.unit_amount as expected_unit_amount,
        expected.amount as expected_amount,
        judged_lines.line_id is not null as is_exported_line
    from judged_lines
    full outer join expected
        on judged_lines.expected_line_key = expected.expected_line_key
    left join period_invoices
        on expected.billing_period_id = period_invoices.billing_period_id
),

with_ledger as (
    select
        paired.*,
        ledger.event_id is not null as is_known_source_event,
        ledger.subscription_id as source_event_subscription_id,
        ledger.is_voided as source_event_is_voided,
        ledger.voided_by_event_id as source_event_voided_by_event_id,
        ledger.seats_delta as source_event_seats_delta,
        ledger.effective_at as source_event_effective_at
    from paired
    left join ledger
        on paired.source_event_id = ledger.event_id
),

reasoned as (
    select
        *,
        case
            when expected_line_key is not null and not is_exported_line and line_kind = 'proration'
                then 'missing_proration'
            when expected_line_key is not null and not is_exported_line
                then 'expected_line_never_invoiced'
            when expected_line_key is null and line_kind = 'proration' and not is_known_source_event
                then 'unknown_source_event'
            when expected_line_key is null
                then 'line_without_expectation'
            when invoiced_amount = expected_amount
                then null
            when line_kind <> 'platform_fee' and invoiced_quantity <> expected_quantity
                then 'stale_quantity'
            when invoiced_unit_amount <> expected_unit_amount
                then 'price_mismatch'
            else 'amount_mismatch'
        end as mismatch_reason
    from with_ledger
),

explained as (
    select
        *,
        case mismatch_reason
            when 'missing_proration'
                then
                    'seat event '
                    || source_event_id
                    || ' ('
                    || cast(expected_quantity as decimal(18, 0))
                    || case when abs(expected_quantity) = 1 then ' seat' else ' seats' end
                    || ' effective '
                    || cast(source_event_effective_at as {{ dbt.type_string() }})
                    || ') has no proration line on the invoice of the period starting '
                    || cast(period_start as {{ dbt.type_string() }})
            when 'expected_line_never_invoiced'
                then
                    'no invoice line charges the '
                    || case
                        when line_kind = 'assigned_model'
                            then 'component ' || component_id || ' of ' || price_model_id
                        else replace(line_kind, '_', ' ')
                    end
                    || ' of the period starting ' || cast(period_start as {{ dbt.type_string() }})
                    || case when invoice_id is null then ' (no invoice for the period)' else '' end
            when 'unknown_source_event'
                then
                    case
                        when source_event_id is null then 'the proration line names no source event'
                        else 'source event ' || source_event_id || ' is not in the seat ledger'
                    end
            when 'line_without_expectation'
                then
                    case
                        when billing_period_id is null
                            then 'the invoice period matches no billing period of the subscription'
                        when source_event_subscription_id <> subscription_id
                            then 'source event ' || source_event_id
                                || ' belongs to another subscription'
                        when source_event_is_voided
                            then 'source event ' || source_event_id || ' was voided by '
                                || source_event_voided_by_event_id || ': no proration is due'
                        when line_kind = 'proration' and source_event_seats_delta = 0
                            then 'source event '
                                || source_event_id
                                || ' does not change the seat count'
                        when line_kind = 'proration'
                            then 'source event ' || source_event_id
                                || ' is not a mid-period change of the previous period'
                        when line_kind = 'usage'
                            then 'the current per-seat plans have no usage charge'
                        when line_kind = 'assigned_model' and component_id is null
                            then 'the line names no component of ' || price_model_id
                                || ' expected for the period ([' || price_model_id
                                || ':<component>] at the end of its description)'
                        else 'a second ' || replace(line_kind, '_', ' ')
                            || ' line for the period, or a second invoice for it'
                    end
            when 'stale_quantity'
                then
                    'invoiced quantity '
                    || cast(cast(invoiced_quantity as decimal(18, 2)) as {{ dbt.type_string() }})
                    || ', the ledger gives '
                    || cast(cast(expected_quantity as decimal(18, 2)) as {{ dbt.type_string() }})
            when 'price_mismatch'
                then
                    'invoiced unit amount '
                    || cast(cast(invoiced_unit_amount as decimal(18, 2)) as {{ dbt.type_string() }})
                    || ', the price book gives '
                    || cast(cast(expected_unit_amount as decimal(18, 2)) as {{ dbt.type_string() }})
            when 'amount_mismatch' then
                'invoiced '
                || cast(cast(invoiced_amount as decimal(18, 2)) as {{ dbt.type_string() }})
                || ', the rules give '
                || cast(cast(expected_amount as decimal(18, 2)) as {{ dbt.type_string() }})
        end as mismatch_detail
    from reasoned
),

judged as (
    select
        reconciliation_id,
        line_id,
        invoice_id,
        invoice_status,
        account_id,
        subscription_id,
        billing_period_id,
        period_start,
        issued_at,
        currency,
        line_type,
        line_kind,
        description,
        source_event_id,
        component_id,
        price_model_id,
        invoiced_quantity,
        invoiced_unit_amount,
        cast(invoiced_amount as decimal(18, 4)) as invoiced_amount,
        expected_line_key,
        expected_quantity,
        expected_unit_amount,
        expected_amount,
        case when mismatch_reason is null then 'match' else 'mismatch' end
            as reconciliation_status,
        true as is_judged,
        mismatch_reason is null as is_match,
        mismatch_reason,
        mismatch_detail
    from explained
),

not_judged as (
    select
        line_id as reconciliation_id,
        line_id,
        invoice_id,
        invoice_status,
        account_id,
        subscription_id,
        billing_period_id,
        invoice_period_start as period_start,
        issued_at,
        currency,
        line_type,
        line_kind,
        description,
        source_event_id,
        component_id,
        price_model_id,
        quantity as invoiced_quantity,
        unit_amount as invoiced_unit_amount,
        amount as invoiced_amount,
        cast(null as {{ dbt.type_string() }}) as expected_line_key,
        cast(null as decimal(18, 8)) as expected_quantity,
        cast(null as decimal(18, 4)) as expected_unit_amount,
        cast(null as decimal(18, 4)) as expected_amount,
        not_judged_because as reconciliation_status,
        false as is_judged,
        cast(null as boolean) as is_match,
        cast(null as {{ dbt.type_string() }}) as mismatch_reason,
        cast(null as {{ dbt.type_string() }}) as mismatch_detail
    from lines_keyed
    where not_judged_because is not null
),

unioned as (
    select * from judged
    union all
    select * from not_judged
),

final as (
    select
        *,
        is_judged and coalesce(invoice_status, '') <> 'draft' as is_in_accuracy,
        {{ month_of('coalesce(issued_at, period_start)') }} as invoice_month
    from unioned
)

select * from final
