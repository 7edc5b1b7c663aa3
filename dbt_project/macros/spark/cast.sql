{#- The contracts and seeds spell a string `varchar`, as DuckDB and most warehouses do; Spark knows
    `varchar` only with a length (`varchar(10)`) and calls the unbounded type `string`. dbt builds
    the contract's expected schema with `cast(null as <data_type>)`, so translating the one spelling
    here lets the same contracts check names and types on Spark. -#}
{% macro spark__cast(field, type) -%}
    {%- set spelled = type | string -%}
    {%- if spelled | trim | lower == 'varchar' -%}
        {%- set spelled = 'string' -%}
    {%- endif -%}
    cast({{ field }} as {{ spelled }})
{%- endmacro %}
