{#- The Poisson bootstrap (docs block pilot_readout): each unit is drawn w times in a resample,
    w Poisson(1) distributed, independently of every other unit. -#}


{#- A uniform number in [0, 1) for a unit and a sample, computed with integer arithmetic alone
    (Park-Miller multipliers modulo the prime 2^31 - 1, and the product of two such streams, every
    product below 2^63), so every engine draws the same numbers and a build is reproducible. The
    suite checks the weights' mean, variance and independence across units and samples. -#}
{% macro bootstrap_uniform(unit_ordinal, sample_id) -%}
{%- set modulus = 2147483647 -%}
cast(
    mod(
        mod(
            mod(
                mod(cast({{ unit_ordinal }} as {{ dbt.type_bigint() }}) * 7919 + {{ sample_id }}, {{ modulus }})
                * 48271,
                {{ modulus }}
            )
            * mod(
                mod(cast({{ sample_id }} as {{ dbt.type_bigint() }}) * 104729 + {{ unit_ordinal }} + 1, {{ modulus }})
                * 16807,
                {{ modulus }}
            ),
            {{ modulus }}
        )
        * 48271,
        {{ modulus }}
    )
    as double
) / {{ modulus }}
{%- endmacro %}


{#- The Poisson(1) draw of a uniform number: w where P(W < w) <= u < P(W <= w) (e^-1 / w! each). -#}
{% macro poisson_bootstrap_weight(uniform) -%}
case
    {%- for threshold in [
        0.3678794412, 0.7357588823, 0.9196986029, 0.9810118431, 0.9963401532, 0.9994058152,
        0.9999167589, 0.9999897508
    ] %}
    when {{ uniform }} < {{ threshold }} then {{ loop.index0 }}
    {%- endfor %}
    else 8
end
{%- endmacro %}
