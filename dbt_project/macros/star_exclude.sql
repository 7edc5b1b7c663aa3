{#- Every column of the preceding relation but the named ones (e.g. a dedup rank).
    DuckDB and Snowflake spell it `* exclude (...)`; Databricks would override with `* except (...)`. -#}
{% macro star_exclude(columns) -%}
    {{ return(adapter.dispatch('star_exclude', 'seatshift')(columns)) }}
{%- endmacro %}

{% macro default__star_exclude(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}
