{#- The published proration rule, selected by the dbt var
    `proration_rule`:
      second (default, as Stripe): quantity x unit x (period_end - effective_at) / (period_end -
        period_start), both measured in seconds;
      day (as GitHub, flexprice): whole UTC days from the change's date to the period end's date,
        counting the change's day, over the days in the period.
    The amount is rounded half-up (away from zero, as Python's ROUND_HALF_UP) to cents per line. -#}
{% macro proration_rule() -%}
    {%- set rule = var('proration_rule') -%}
    {#- `exceptions` is dbt's; the linter's plain Jinja has none and no real var either -#}
    {%- if rule not in ('second', 'day') and exceptions is defined -%}
        {{ exceptions.raise_compiler_error(
            "var proration_rule must be 'second' or 'day', not '" ~ rule ~ "'") }}
    {%- endif -%}
    {{ return(rule) }}
{%- endmacro %}

{% macro proration_remaining_units(effective_at, period_end) -%}
    {%- if proration_rule() == 'day' -%}
        {{ dbt.datediff('cast(' ~ effective_at ~ ' as date)',
            'cast(' ~ period_end ~ ' as date)', 'day') }}
    {%- else -%}
        {{ dbt.datediff(effective_at, period_end, 'second') }}
    {%- endif -%}
{%- endmacro %}

{% macro proration_period_units(period_start, period_end) -%}
    {%- if proration_rule() == 'day' -%}
        {{ dbt.datediff('cast(' ~ period_start ~ ' as date)',
            'cast(' ~ period_end ~ ' as date)', 'day') }}
    {%- else -%}
        {{ dbt.datediff(period_start, period_end, 'second') }}
    {%- endif -%}
{%- endmacro %}

{% macro proration_amount(seats_delta, unit_amount, effective_at, period_start, period_end) -%}
    {{ divide_rounding_half_up_to_cents(
        '(' ~ seats_delta ~ ') * (' ~ unit_amount ~ ') * ('
            ~ proration_remaining_units(effective_at, period_end) ~ ')',
        proration_period_units(period_start, period_end)
    ) }}
{%- endmacro %}


{#- numerator / denominator rounded half away from zero to cents, as decimal(18, 4).
    The numerator is an exact decimal with at most 4 decimals; the denominator a positive integer.
    Decimal division turns into a double on DuckDB, which can put an exact half-cent just below
    the half and round it down, so the DuckDB version divides integers instead. -#}
{% macro divide_rounding_half_up_to_cents(numerator, denominator) -%}
    {%- set implementation = adapter.dispatch('divide_rounding_half_up_to_cents', 'seatshift') -%}
    {{ return(implementation(numerator, denominator)) }}
{%- endmacro %}

{% macro default__divide_rounding_half_up_to_cents(numerator, denominator) -%}
    cast(round(cast({{ numerator }} as decimal(38, 10)) / ({{ denominator }}), 2) as decimal(18, 4))
{%- endmacro %}

{#- In ten-thousandths the numerator is an integer n; cents = n / (100 d). Rounding half away
    from zero is sign(n) x floor((2|n| + 100 d) / (200 d)); `//` truncates, which is floor here
    because both operands are positive. -#}
{% macro duckdb__divide_rounding_half_up_to_cents(numerator, denominator) -%}
    cast(
        cast(
            sign({{ numerator }})
            * (
                (
                    2 * abs(cast(({{ numerator }}) * 10000 as hugeint))
                    + 100 * cast(({{ denominator }}) as hugeint)
                )
                // (200 * cast(({{ denominator }}) as hugeint))
            )
            as decimal(38, 0)
        ) * cast(0.01 as decimal(3, 2))
        as decimal(18, 4)
    )
{%- endmacro %}
