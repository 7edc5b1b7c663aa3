{#- dbt's own `safe_cast` is a plain `cast` on DuckDB, which fails the whole build on one bad value.
    try_cast returns null instead, so a bad value becomes a failing not_null test, not a crash. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
