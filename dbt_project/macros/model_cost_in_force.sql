{#- The join condition that picks, for an LLM tier's usage in `month`, the price of
    int_model_costs_in_force (joined as `costs`) in force that month: the one definition of "the
    cost in force" that every cost to serve shares. -#}
{% macro model_cost_in_force(costs, model, month) -%}
    {{ model }} = {{ costs }}.model
    and {{ month }} >= {{ costs }}.valid_from
    and ({{ costs }}.valid_to is null or {{ month }} < {{ costs }}.valid_to)
{%- endmacro %}
