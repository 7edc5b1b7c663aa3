{#- A `+schema: marts` lands in schema `marts` in every target, not `<target schema>_marts`:
    the dashboard and the contracts name `marts.*` directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
