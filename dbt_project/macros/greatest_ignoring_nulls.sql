{#- The largest of several expressions, null only when all are null. DuckDB's greatest() already
    skips nulls; engines whose greatest() returns null on any null need the coalesce form. -#}
{% macro greatest_ignoring_nulls(expressions) -%}
    {{ return(adapter.dispatch('greatest_ignoring_nulls', 'seatshift')(expressions)) }}
{%- endmacro %}

{% macro default__greatest_ignoring_nulls(expressions) -%}
    greatest(
        {%- for expression in expressions %}
        coalesce({{ expression }}, {{ expressions | join(', ') }})
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__greatest_ignoring_nulls(expressions) -%}
    greatest({{ expressions | join(', ') }})
{%- endmacro %}
