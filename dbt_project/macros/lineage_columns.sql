{#- The loader's lineage columns, kept through staging so every number traces back to its file
    and row. `_extra` (columns the contract does not know) is dropped: it is ignored downstream. -#}
{% macro lineage_columns() -%}
        cast(_refresh_id as {{ dbt.type_string() }}) as _refresh_id,
        cast(_file_name as {{ dbt.type_string() }}) as _file_name,
        cast(_row_number as {{ dbt.type_bigint() }}) as _row_number,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at
{%- endmacro %}
