{#- Rows for which `expression` is false fail the test; a null result passes (test nulls with
    not_null), as in dbt_utils. On a column, the expression continues the column name (`>= 0`). -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    {% if column_name is none %}
    where not ({{ expression }})
    {% else %}
    where not ({{ column_name }} {{ expression }})
    {% endif %}
{% endtest %}
