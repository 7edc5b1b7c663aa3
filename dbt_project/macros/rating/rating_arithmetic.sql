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


{#- Spark rounds a quotient of decimals (to 18 decimals here: profiles.yml turns its precision
    loss off) where DuckDB's `//` truncates at 12. In scaled integers instead, as on DuckDB:
    n = numerator and d = denominator times 1e12, in decimal(38, 0) (exact: each operand has at
    most 12 decimals); the whole part of |n| / |d| from |n| - |n| % |d|, then 12 more digits from
    the remainder times 1e12 (below 1e38 while |denominator| < 1e14), truncated toward zero with
    the quotient's sign. The whole part is decimal(25, 0), below 1e25, far above any quantity of
    usage. -#}
{% macro spark__divide_exactly(numerator, denominator) -%}
    {%- set n = 'abs(cast((' ~ numerator ~ ') * 1000000000000 as decimal(38, 0)))' -%}
    {%- set d = 'abs(cast((' ~ denominator ~ ') * 1000000000000 as decimal(38, 0)))' -%}
    {%- set remainder = '(' ~ n ~ ' % ' ~ d ~ ')' -%}
    {%- set scaled_remainder = 'cast(' ~ remainder ~ ' * 1000000000000 as decimal(38, 0))' -%}
    {%- set quotient -%}
        (
            cast(({{ n }} - {{ remainder }}) / {{ d }} as decimal(25, 0))
            + cast(
                ({{ scaled_remainder }} - {{ scaled_remainder }} % {{ d }}) / {{ d }}
                as decimal(12, 0)
            ) * cast(0.000000000001 as decimal(12, 12))
        )
    {%- endset -%}
    (
        case
            when (({{ numerator }}) < 0) <> (({{ denominator }}) < 0) then -{{ quotient }}
            else {{ quotient }}
        end
    )
{%- endmacro %}


{#- ceil(numerator / denominator) for positive operands, exactly: whole packages. -#}
{% macro ceil_divide_exactly(numerator, denominator) -%}
    {{ return(adapter.dispatch('ceil_divide_exactly')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__ceil_divide_exactly(numerator, denominator) -%}
    ceil(({{ numerator }}) / ({{ denominator }}))
{%- endmacro %}

{#- As spark__divide_exactly: the whole part, plus one when a remainder is left. -#}
{% macro spark__ceil_divide_exactly(numerator, denominator) -%}
    {%- set n = 'cast((' ~ numerator ~ ') * 1000000000000 as decimal(38, 0))' -%}
    {%- set d = 'cast((' ~ denominator ~ ') * 1000000000000 as decimal(38, 0))' -%}
    (
        cast(({{ n }} - {{ n }} % {{ d }}) / {{ d }} as decimal(25, 0))
        + case when {{ n }} % {{ d }} > 0 then 1 else 0 end
    )
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


{#- A product kept at 12 decimals, so sums of products never overflow decimal(38, 24). DuckDB
    multiplies two decimal(38, s) exactly (decimal(38, s1 + s2)) and the cast rounds half away
    from zero; so does Spark, with spark.sql.decimalOperations.allowPrecisionLoss off (profiles.yml),
    which otherwise rounds the product to 6 decimals. -#}
{% macro multiply_exactly(left, right) -%}
    cast(({{ left }}) * ({{ right }}) as {{ rating_decimal() }})
{%- endmacro %}


{#- Half-up to cents (docs/price-book.md: a shadow invoice rounds each component's charge). DuckDB's
    round() rounds half away from zero, which differs from half-up on a negative charge. -#}
{% macro round_half_up_to_cents(amount) -%}
    cast(floor(({{ amount }}) * 100 + 0.5) * cast(0.01 as decimal(4, 2)) as decimal(18, 4))
{%- endmacro %}


{#- A quotient of two decimals as a double. DuckDB divides decimals in double already (the text
    stays as it was, and so does the SQL the dashboard's marts publish); Spark would keep a
    decimal of 6 decimals, so the numerator is made a double first. -#}
{% macro double_quotient(numerator, denominator) -%}
    {{ return(adapter.dispatch('double_quotient')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__double_quotient(numerator, denominator) -%}
    cast({{ numerator }} as double) / {{ denominator }}
{%- endmacro %}

{% macro duckdb__double_quotient(numerator, denominator) -%}
    {{ numerator }} / {{ denominator }}
{%- endmacro %}


{#- A double as decimal(precision, scale) (scale at most 6 on Spark), the value DuckDB's cast gives:
    the double times 10^scale, in double, rounded half away from zero. Spark's cast rounds the
    double's shortest decimal text instead, which differs on a half of the last digit. -#}
{% macro double_to_decimal(value, precision, scale) -%}
    {{ return(adapter.dispatch('double_to_decimal')(value, precision, scale)) }}
{%- endmacro %}

{% macro default__double_to_decimal(value, precision, scale) -%}
    cast({{ value }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- round() of a double rounds half up the double's shortest text, which lies on the same side of
    a half as the double itself (a half is exact in double below 2^52). -#}
{% macro spark__double_to_decimal(value, precision, scale) -%}
    cast(
        cast(round(cast({{ value }} as double) * cast({{ 10 ** scale }} as double), 0)
            as decimal({{ precision }}, 0))
        * cast({{ '%.*f' | format(scale, 10 ** -scale) }} as decimal({{ scale }}, {{ scale }}))
        as decimal({{ precision }}, {{ scale }})
    )
{%- endmacro %}
