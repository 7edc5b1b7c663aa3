{#- Every column of the preceding relation but the named ones (e.g. a dedup rank).
    DuckDB and Snowflake spell it `* exclude (...)`, Spark and Databricks `* except (...)`. -#}
{% macro star_exclude(columns) -%}
    {{ return(adapter.dispatch('star_exclude', 'seatshift')(columns)) }}
{%- endmacro %}

{% macro default__star_exclude(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{#- Spark 4 spells it `* except (...)`. -#}
{% macro spark__star_exclude(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
