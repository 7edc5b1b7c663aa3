{#- Exact arithmetic for the rating engine. Every amount is decimal(38, 12): exact to 12 decimals
    for quantities below 1e14, which is far above any account-month of usage.

    DuckDB divides decimals in floating point, which is not exact (and `ceil` of a quotient that
    should be 3 may come out as 3.0000000001). These macros divide in scaled integers instead;
    they dispatch, so another warehouse can supply its own exact division. -#}

{% macro rating_decimal() -%}
    decimal(38, 12)
{%- endmacro %}


{#- A price-book cell as a number: empty text and null are both "not set" (docs/price-book.md). Works
    on typed dbt seeds and on CSV text read by `seatshift rate` alike. -#}
{% macro price_book_number(column) -%}
    cast(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') as {{ rating_decimal() }})
{%- endmacro %}


{% macro price_book_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{#- numerator / denominator, truncated at 12 decimals (no floating point). -#}
{% macro divide_exactly(numerator, denominator) -%}
    {{ return(adapter.dispatch('divide_exactly')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__divide_exactly(numerator, denominator) -%}
    cast(({{ numerator }}) / ({{ denominator }}) as {{ rating_decimal() }})
{%- endmacro %}

{% macro duckdb__divide_exactly(numerator, denominator) -%}
    (
        cast(
            (cast(({{ numerator }}) * 1000000000000 as hugeint) * 1000000000000)
            // cast(({{ denominator }}) * 1000000000000 as hugeint)
            as decimal(38, 0)
        ) * cast(0.000000000001 as {{ rating_decimal() }})
    )
{%- endmacro %}


{#- ceil(numerator / denominator) for positive operands, exactly: whole packages. -#}
{% macro ceil_divide_exactly(numerator, denominator) -%}
    {{ return(adapter.dispatch('ceil_divide_exactly')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__ceil_divide_exactly(numerator, denominator) -%}
    ceil(({{ numerator }}) / ({{ denominator }}))
{%- endmacro %}

{% macro duckdb__ceil_divide_exactly(numerator, denominator) -%}
    (
        cast(({{ numerator }}) * 1000000000000 as hugeint)
        // cast(({{ denominator }}) * 1000000000000 as hugeint)
        + case
            when cast(({{ numerator }}) * 1000000000000 as hugeint)
                % cast(({{ denominator }}) * 1000000000000 as hugeint) > 0
                then 1
            else 0
        end
    )
{%- endmacro %}


{#- A product kept at 12 decimals, so sums of products never overflow decimal(38, 24). -#}
{% macro multiply_exactly(left, right) -%}
    cast(({{ left }}) * ({{ right }}) as {{ rating_decimal() }})
{%- endmacro %}


{#- Half-up to cents (docs/price-book.md: a shadow invoice rounds each component's charge). DuckDB's
    round() rounds half away from zero, which differs from half-up on a negative charge. -#}
{% macro round_half_up_to_cents(amount) -%}
    cast(floor(({{ amount }}) * 100 + 0.5) * cast(0.01 as decimal(4, 2)) as decimal(18, 4))
{%- endmacro %}
