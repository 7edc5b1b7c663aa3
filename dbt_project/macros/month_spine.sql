{#- Months from start_month to end_month inclusive, as `month` (date, first day of the month).

    dbt.date_spine needs its bounds at compile time (it runs a query to count the intervals);
    ours come from the data, so we generate a fixed number of offsets and filter in SQL.
    Both bounds are SQL expressions (they may be scalar subqueries). -#}
{% macro month_spine(start_month, end_month, max_months=none) -%}
    {%- set max_months = max_months or var('month_spine_max_months') -%}
    select
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1', start_month) }} as date)
            as month
    from ({{ dbt.generate_series(max_months) }}) as month_offsets
    where {{ dbt.dateadd('month', 'month_offsets.generated_number - 1', start_month) }}
        <= {{ end_month }}
{%- endmacro %}


{#- The first day of the month of a timestamp, as a date (UTC: the warehouse stores UTC). -#}
{% macro month_of(timestamp_expression) -%}
    cast({{ dbt.date_trunc('month', timestamp_expression) }} as date)
{%- endmacro %}
