{#- dbt-spark's listagg drops the order (collect_list, with a warning), so a list such as a
    correction trail would come out in whatever order Spark met the rows. Spark 4 has listagg with
    WITHIN GROUP (ORDER BY ...), the order DuckDB's string_agg gives. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not used in this project") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
