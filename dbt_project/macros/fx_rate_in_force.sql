{#- The join condition that picks, for an amount in `currency` on `day`, the row of
    int_fx_rates_as_of_day (joined as `rates`) in force that day: the one definition of "the rate
    as of a day" that every conversion to USD shares. A USD amount matches no row; its callers
    take 1 for it. -#}
{% macro fx_rate_in_force(rates, currency, day) -%}
    {{ currency }} = {{ rates }}.currency
    and {{ currency }} != 'USD'
    and {{ day }} >= {{ rates }}.valid_from
    and ({{ rates }}.valid_to is null or {{ day }} < {{ rates }}.valid_to)
{%- endmacro %}
