{#- The migration trigger's verdict, written once.

    `signals` is a relation (or CTE) with one row per segment x month x proposal holding the
    segment's signals and the proposal's trailing shadow billing: segment, month, price_model_id,
    automation_share, automation_change_6m, seat_growth_6m, usage_growth_6m, token_growth_6m, nrr,
    median_seat_utilization, billed_account_months, shadow_bill_shock_rate, revenue_delta_pct
    (more columns pass through). Each threshold is the var in force (fct_migration_triggers) or,
    with `as_parameters`, a named parameter `$<setting name>` bound as a double (the dashboard's
    what-if runs that, published in rpt_trigger_sql), so the page re-judges with this very SQL.
    The macro writes common table expressions (no `with`, no trailing comma) ending in
    `trigger_verdicts`, so a model splices them into its own `with` and a caller without one wraps
    them: `with <these> select * from trigger_verdicts`.
    A signal that is null (not enough history) is not met. -#}
{% macro migration_trigger_judgement(signals, as_parameters=false) -%}
{%- set t_guardrail_max_bill_shock_rate = migration_trigger_threshold('guardrail_max_bill_shock_rate', as_parameters) -%}
{%- set t_guardrail_max_revenue_delta_pct = migration_trigger_threshold('guardrail_max_revenue_delta_pct', as_parameters) -%}
{%- set t_guardrail_min_revenue_delta_pct = migration_trigger_threshold('guardrail_min_revenue_delta_pct', as_parameters) -%}
{%- set t_trigger_automation_change_min = migration_trigger_threshold('trigger_automation_change_min', as_parameters) -%}
{%- set t_trigger_automation_share_min = migration_trigger_threshold('trigger_automation_share_min', as_parameters) -%}
{%- set t_trigger_nrr_max = migration_trigger_threshold('trigger_nrr_max', as_parameters) -%}
{%- set t_trigger_seat_growth_max = migration_trigger_threshold('trigger_seat_growth_max', as_parameters) -%}
{%- set t_trigger_usage_growth_min = migration_trigger_threshold('trigger_usage_growth_min', as_parameters) -%}
{%- set t_utilization_red_flag = migration_trigger_threshold('utilization_red_flag', as_parameters) -%}
value_leaving as (
    select
        *,
        coalesce(
            automation_share >= {{ t_trigger_automation_share_min }}
            and automation_change_6m >= {{ t_trigger_automation_change_min }}
            and (
                coalesce(
                    seat_growth_6m <= {{ t_trigger_seat_growth_max }}
                    and (
                        usage_growth_6m > {{ t_trigger_usage_growth_min }}
                        or token_growth_6m > {{ t_trigger_usage_growth_min }}
                    ),
                    false
                )
                or coalesce(nrr < {{ t_trigger_nrr_max }}, false)
                or coalesce(median_seat_utilization < {{ t_utilization_red_flag }}, false)
            ),
            false
        ) as is_value_leaving,
        coalesce(shadow_bill_shock_rate < {{ t_guardrail_max_bill_shock_rate }}, false)
            as is_bill_shock_low,
        coalesce(
            revenue_delta_pct >= {{ t_guardrail_min_revenue_delta_pct }}
            and revenue_delta_pct <= {{ t_guardrail_max_revenue_delta_pct }},
            false
        ) as is_revenue_in_range
    from {{ signals }}
),

judged as (
    select
        *,
        is_bill_shock_low and is_revenue_in_range as is_proposal_viable,
        case
            when billed_account_months = 0 then 'bills nobody in the window'
            when not is_bill_shock_low and not is_revenue_in_range
                then 'bill-shock rate not below the limit and revenue outside the range'
            when not is_bill_shock_low then 'bill-shock rate not below the limit'
            when not is_revenue_in_range then 'revenue outside the range'
        end as proposal_failure_reason,
        is_value_leaving and is_bill_shock_low and is_revenue_in_range as is_triggered
    from value_leaving
),

-- Runs of triggered months: every month that is not triggered starts a new group, so within a
-- group the triggered months are one unbroken run and its first is the earliest of them.
runs as (
    select
        *,
        sum(case when is_triggered then 0 else 1 end) over (
            partition by segment, price_model_id
            order by month
            rows between unbounded preceding and current row
        ) as run_number
    from judged
),

with_since as (
    select
        *,
        case
            when is_triggered
                then min(case when is_triggered then month end)
                        over (partition by segment, price_model_id, run_number)
        end as triggered_since,
        max(case when is_triggered then 1 else 0 end) over (partition by segment, month) = 1
            as has_triggered_proposal
    from runs
),

trigger_verdicts as (
    select
        *,
        case
            when has_triggered_proposal then 'crossed'
            when
                is_value_leaving
                or coalesce(automation_share >= {{ t_trigger_automation_share_min }}, false)
                then 'watch'
            else 'healthy'
        end as segment_status
    from with_since
)
{%- endmacro %}


{#- The threshold settings the verdict reads, by name. -#}
{% macro migration_trigger_threshold_names() -%}
    {{ return([
        'trigger_automation_share_min',
        'trigger_automation_change_min',
        'trigger_seat_growth_max',
        'trigger_usage_growth_min',
        'trigger_nrr_max',
        'utilization_red_flag',
        'guardrail_max_bill_shock_rate',
        'guardrail_min_revenue_delta_pct',
        'guardrail_max_revenue_delta_pct',
    ]) }}
{%- endmacro %}


{#- One threshold: the var in force, or the named parameter of the same name. -#}
{% macro migration_trigger_threshold(name, as_parameters=false) -%}
    {%- if as_parameters -%}
        cast(${{ name }} as double)
    {%- else -%}
        {{ var(name) }}
    {%- endif -%}
{%- endmacro %}
