-- The price book's current model, the one customers are billed under today (dim_price_models
-- .is_current_model): every account is under it unless an assignment moves it to another model.
-- Written once here, as a quoted SQL literal.
{% macro current_price_model_id() -%}
    'current_per_seat'
{%- endmacro %}
