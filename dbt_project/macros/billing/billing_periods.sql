{#- Billing-cycle arithmetic (the export contract, subscriptions.started_at): a period runs from the anchor
    to the same day-of-month and time `interval_months` later, the day clamped to the last day of
    shorter months. Period k is always computed from the anchor itself (anchor + k x interval),
    never from period k-1: an anchor on Jan 31 gives Feb 28 (29 in a leap year), then Mar 31. -#}
{% macro billing_period_start(anchor, interval_months, period_index) -%}
    {%- set implementation = adapter.dispatch('billing_period_start', 'seatshift') -%}
    {{ return(implementation(anchor, interval_months, period_index)) }}
{%- endmacro %}

{#- DuckDB and Spark's month arithmetic both clamp to the month's last day and keep the time. -#}
{% macro default__billing_period_start(anchor, interval_months, period_index) -%}
    {{ dbt.dateadd('month', '(' ~ interval_months ~ ') * (' ~ period_index ~ ')', anchor) }}
{%- endmacro %}


{#- Months per billing interval (`month` or `year`); null for anything else, so a plan with an
    unknown interval yields no periods instead of wrong ones. -#}
{% macro interval_months(billing_interval) -%}
    case {{ billing_interval }} when 'month' then 1 when 'year' then 12 end
{%- endmacro %}
