{#- When a price model's money arrives (docs block projected_cash). -#}


{#- The metrics whose charges are billed at the start of the month they pay for: seats, the
    current plan's recurring charges and a platform fee. Every other metric is usage, billed in
    arrears (the month after it is used). The one list the cash timing reads. -#}
{% macro cash_in_advance_metrics() -%}
{{ return([
    'seats', 'active_users', 'platform', 'plan_seat_charges_usd', 'plan_platform_fees_usd',
    'plan_proration_charges_usd', 'plan_proration_credits_usd',
]) }}
{%- endmacro %}
