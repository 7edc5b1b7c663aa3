{#- A list of rating decimals as a column type: a prepaid pool's rolled-over units by age
    (rate_usage's pool_carry_out). -#}
{% macro rating_decimal_list() -%}
    {{ return(adapter.dispatch('rating_decimal_list')()) }}
{%- endmacro %}

{% macro default__rating_decimal_list() -%}
    {{ rating_decimal() }}[]
{%- endmacro %}

{% macro spark__rating_decimal_list() -%}
    array<{{ rating_decimal() }}>
{%- endmacro %}
