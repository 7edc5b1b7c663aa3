{#- A 64-bit hash of a row's columns, as an exact decimal so that summing many rows cannot
    overflow: the fingerprints of macro rated_months_to_rebuild. DuckDB's `hash`, Spark's
    `xxhash64`: an engine compares only the fingerprints it computed itself. -#}
{% macro rating_fingerprint(columns) -%}
    {{ return(adapter.dispatch('rating_fingerprint')(columns)) }}
{%- endmacro %}

{#- One row's 64-bit hash as an exact decimal, so that summing a month's rows cannot overflow. -#}
{% macro default__rating_fingerprint(columns) -%}
    cast(hash({{ columns | join(', ') }}) as decimal(38, 0))
{%- endmacro %}

{% macro spark__rating_fingerprint(columns) -%}
    cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))
{%- endmacro %}

{#- The same over every column of a row of the relation aliased `alias`. -#}
{% macro rating_row_fingerprint(alias) -%}
    {{ return(adapter.dispatch('rating_row_fingerprint')(alias)) }}
{%- endmacro %}

{% macro default__rating_row_fingerprint(alias) -%}
    cast(hash({{ alias }}) as decimal(38, 0))
{%- endmacro %}

{% macro spark__rating_row_fingerprint(alias) -%}
    cast(xxhash64({{ alias }}.*) as decimal(38, 0))
{%- endmacro %}
