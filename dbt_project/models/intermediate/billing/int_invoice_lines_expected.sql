-- Grain: one row per invoice line expected under the model in force (expected_line_key), for
-- every period of int_billing_periods_in_force (docs block billed_under_assigned_model):
-- * a seat period under the current model: its lines by the seat rules
--   (int_invoice_lines_under_seat_rules): the seat line, the platform fee, the prorations of the
--   previous period's seat changes;
-- * the part of a month under an assigned model: one line per component of that model, its line
--   of the account-month's shadow invoice (int_account_months_rated_by_price_model, rounded to
--   cents), times seconds_in_force / seconds_in_month rounded half-up to cents when the model was
--   in force for part of the month only; and, on the part that starts at the switch, the
--   prorations of the seat period ending there, which its seat invoice would have carried.
-- Changes of a seat period the switch falls inside, or after the switch, are not prorated.
with

seat_rule_lines as (select * from {{ ref('int_invoice_lines_under_seat_rules') }}),

periods as (select * from {{ ref('int_billing_periods_in_force') }}),

rated as (select * from {{ ref('int_account_months_rated_by_price_model') }}),

components as (select * from {{ ref('price_components') }}),

seat_period_lines as (
    select
        seat_rule_lines.billing_period_id,
        seat_rule_lines.line_kind,
        seat_rule_lines.line_type,
        seat_rule_lines.source_event_id,
        cast(null as {{ dbt.type_string() }}) as component_id,
        seat_rule_lines.quantity,
        seat_rule_lines.unit_amount,
        seat_rule_lines.amount,
        seat_rule_lines.service_start,
        seat_rule_lines.service_end
    from seat_rule_lines
    inner join periods
        on seat_rule_lines.billing_period_id = periods.billing_period_id
),

-- the seat period that starts at the switch is not invoiced: its prorations move to the first
-- invoice under the assigned model
carried_proration_lines as (
    select
        periods.billing_period_id,
        seat_rule_lines.line_kind,
        seat_rule_lines.line_type,
        seat_rule_lines.source_event_id,
        cast(null as {{ dbt.type_string() }}) as component_id,
        seat_rule_lines.quantity,
        seat_rule_lines.unit_amount,
        seat_rule_lines.amount,
        seat_rule_lines.service_start,
        seat_rule_lines.service_end
    from seat_rule_lines
    inner join periods
        on seat_rule_lines.subscription_id = periods.subscription_id
            and seat_rule_lines.period_start = periods.period_start
            and periods.period_kind = 'assigned_month'
            and periods.starts_at_switch
    where seat_rule_lines.line_kind = 'proration'
),

assigned_model_lines as (
    select
        periods.billing_period_id,
        'assigned_model' as line_kind,
        case
            when components.charge_model = 'flat_fee' or rated.metric = 'seats'
                then 'subscription'
            else 'usage'
        end as line_type,
        cast(null as {{ dbt.type_string() }}) as source_event_id,
        rated.component_id,
        cast(rated.quantity as decimal(18, 8)) as quantity,
        cast(
            coalesce(
                {{ price_book_number('components.unit_amount') }},
                {{ price_book_number('components.flat_amount') }}
            ) as decimal(18, 4)
        ) as unit_amount,
        case
            when periods.seconds_in_force = periods.seconds_in_month then rated.amount_usd
            else {{ divide_rounding_half_up_to_cents(
                'rated.amount_usd * periods.seconds_in_force', 'periods.seconds_in_month') }}
        end as amount,
        periods.period_start as service_start,
        periods.period_end as service_end
    from periods
    inner join rated
        on periods.account_id = rated.account_id
            and periods.month = rated.month
            and periods.price_model_id = rated.price_model_id
    left join components
        on rated.price_model_id = components.price_model_id
            and rated.component_id = components.component_id
    where periods.period_kind = 'assigned_month'
),

unioned as (
    select * from seat_period_lines
    union all
    select * from carried_proration_lines
    union all
    select * from assigned_model_lines
),

final as (
    select
        unioned.billing_period_id
        || '|' || unioned.line_kind
        || coalesce('|' || unioned.source_event_id, '')
        || coalesce('|' || unioned.component_id, '') as expected_line_key,
        unioned.billing_period_id,
        periods.subscription_id,
        periods.account_id,
        periods.period_kind,
        periods.price_model_id,
        periods.period_start,
        periods.period_end,
        unioned.line_kind,
        unioned.line_type,
        unioned.source_event_id,
        unioned.component_id,
        unioned.quantity,
        unioned.unit_amount,
        cast(unioned.amount as decimal(18, 4)) as amount,
        periods.currency,
        unioned.service_start,
        unioned.service_end
    from unioned
    inner join periods
        on unioned.billing_period_id = periods.billing_period_id
)

select * from final
