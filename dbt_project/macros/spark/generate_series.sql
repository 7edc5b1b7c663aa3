{#- dbt's default generate_series multiplies by power(2, i), a double on Spark, so month offsets
    became 0.0, 1.0, ... (and '0.0' in a text key). Spark's range() gives bigints, as DuckDB's
    generate_series does. -#}
{% macro spark__generate_series(upper_bound) -%}
    select id as generated_number
    from range(1, {{ upper_bound }} + 1)
{%- endmacro %}
