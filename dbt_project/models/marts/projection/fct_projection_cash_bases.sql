-- Grain: one row per segment x price model x cash timing x term x months to the next billing
-- (segment, price_model_id, cash_timing, term_months, months_to_billing).
-- When the money of today's base arrives under each model (docs block projected_cash), on the
-- MRR basis of the projection's origin (the as-of month, fct_projection_bases' accounts):
--   in_advance  charges billed at the start of the month they pay for: a monthly plan's seats
--               and fees, a proposal's seat and flat fees and a prepaid pool's price
--               (macro cash_in_advance_metrics);
--   in_arrears  usage, billed the month after it is used (a spend cap's reduction with it);
--   term        a plan billed for term_months at once (an annual plan: its MRR, a twelfth of the
--               invoice), next billed months_to_billing months after the origin, then every
--               term_months.
-- The current model reads the subscriptions' MRR at the origin (the plan's interval and period
-- start), a proposal its shadow invoice lines of the origin month. An account billed at the origin
-- under a model it was assigned to (docs block billed_under_assigned_model) has that model's
-- charges as its MRR on the current model's row too, so its cash there is timed by that model's
-- lines as well. The projection's cash line
-- (fct_projection_margin_and_cash) applies this mix to every projected month.
{%- set in_advance_list = "'" ~ (cash_in_advance_metrics() | join("', '")) ~ "'" %}
with

bases as (select * from {{ ref('int_projection_bases') }}),

subscriptions as (select * from {{ ref('int_subscriptions_priced_to_month_end') }}),

shadow_lines as (select * from {{ ref('fct_shadow_invoice_lines') }}),

components as (select * from {{ ref('dim_price_components') }}),

models_in_force as (select * from {{ ref('int_account_months_split_by_price_model') }}),

assigned_month_models as (
    select
        account_id,
        month,
        price_model_id
    from models_in_force
    where is_billed_under_assignment
),

-- billed_model_id: the model whose charges make the row's MRR at the origin
origin_bases as (
    select
        bases.origin_month,
        bases.account_id,
        bases.segment,
        bases.price_model_id,
        bases.is_current_model,
        case
            when bases.is_current_model and assigned_month_models.price_model_id is not null
                then assigned_month_models.price_model_id
            else bases.price_model_id
        end as billed_model_id
    from bases
    left join assigned_month_models
        on bases.account_id = assigned_month_models.account_id
            and bases.origin_month = assigned_month_models.month
    where bases.origin_kind = 'projection'
),

-- the current model: each subscription's MRR at the origin, by its plan's interval; a plan
-- billed for several months at once is next billed when its period has run out
current_subscriptions as (
    select
        origin_bases.segment,
        origin_bases.price_model_id,
        origin_bases.account_id,
        subscriptions.interval_months,
        subscriptions.mrr_usd,
        {{ dbt.datediff(
            dbt.date_trunc('month', 'subscriptions.period_start'),
            'origin_bases.origin_month',
            'month'
        ) }} as months_into_period
    from origin_bases
    inner join subscriptions
        on origin_bases.account_id = subscriptions.account_id
            and origin_bases.origin_month = subscriptions.month
    where origin_bases.is_current_model
        and origin_bases.billed_model_id = origin_bases.price_model_id
),

current_timed as (
    select
        segment,
        price_model_id,
        case when interval_months > 1 then 'term' else 'in_advance' end as cash_timing,
        case when interval_months > 1 then interval_months else 1 end as term_months,
        case
            when interval_months > 1
                then mod(
                        interval_months - mod(months_into_period, interval_months), interval_months
                    )
            else 0
        end as months_to_billing,
        account_id,
        mrr_usd
    from current_subscriptions
),

-- a proposal (or the model an account is billed under at the origin): the shadow lines of the
-- origin month; a prepaid pool's price is paid up front, its overage in arrears
proposal_lines as (
    select
        origin_bases.segment,
        origin_bases.price_model_id,
        origin_bases.account_id,
        shadow_lines.metric,
        shadow_lines.charge_model,
        shadow_lines.amount_usd,
        components.flat_amount,
        shadow_lines.charge_model <> 'model_cap'
        and shadow_lines.metric in ({{ in_advance_list }}) as is_in_advance_metric
    from origin_bases
    inner join shadow_lines
        on origin_bases.account_id = shadow_lines.account_id
            and origin_bases.billed_model_id = shadow_lines.price_model_id
            and origin_bases.origin_month = shadow_lines.month
    left join components
        on shadow_lines.price_model_id = components.price_model_id
            and shadow_lines.component_id = components.component_id
    where not origin_bases.is_current_model
        or origin_bases.billed_model_id <> origin_bases.price_model_id
),

proposal_timed as (
    select
        segment,
        price_model_id,
        'in_advance' as cash_timing,
        1 as term_months,
        0 as months_to_billing,
        account_id,
        case
            when charge_model = 'prepaid_pool' then least(amount_usd, coalesce(flat_amount, 0))
            when charge_model = 'flat_fee' or is_in_advance_metric then amount_usd
            else 0
        end as mrr_usd
    from proposal_lines
    union all
    select
        segment,
        price_model_id,
        'in_arrears' as cash_timing,
        1 as term_months,
        0 as months_to_billing,
        account_id,
        case
            when charge_model = 'prepaid_pool'
                then amount_usd - least(amount_usd, coalesce(flat_amount, 0))
            when charge_model = 'flat_fee' or is_in_advance_metric then 0
            else amount_usd
        end as mrr_usd
    from proposal_lines
),

timed as (
    select * from current_timed
    union all
    select * from proposal_timed
),

aggregated as (
    select
        segment,
        price_model_id,
        cash_timing,
        term_months,
        months_to_billing,
        count(distinct account_id) as accounts,
        sum(mrr_usd) as mrr_usd
    from timed
    group by segment, price_model_id, cash_timing, term_months, months_to_billing
),

final as (
    select
        segment || '|' || price_model_id || '|' || cash_timing || '|'
        || cast(term_months as {{ dbt.type_string() }}) || '|'
        || cast(months_to_billing as {{ dbt.type_string() }}) as projection_cash_base_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(price_model_id as {{ dbt.type_string() }}) as price_model_id,
        cast(cash_timing as {{ dbt.type_string() }}) as cash_timing,
        cast(term_months as integer) as term_months,
        cast(months_to_billing as integer) as months_to_billing,
        cast(accounts as {{ dbt.type_bigint() }}) as accounts,
        cast(mrr_usd as decimal(18, 4)) as mrr_usd
    from aggregated
)

select * from final
