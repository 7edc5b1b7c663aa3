{#- Rank 1 marks the row of a key that the warehouse keeps (exports.md: a re-delivered key is a
    duplicate). The loader already keeps one row per key; staging re-applies the rule as a defence. -#}

{#- Snapshot exports: the latest `updated_at` wins; ties go to the latest load, then the later file
    and row, so the choice never depends on scan order. -#}
{% macro latest_version_rank(key_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            updated_at desc nulls last,
            _loaded_at desc nulls last,
            _file_name desc nulls last,
            _row_number desc nulls last
    )
{%- endmacro %}

{#- Exports without `updated_at`: the first delivery wins. -#}
{% macro first_delivery_rank(key_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _loaded_at nulls last, _file_name nulls last, _row_number nulls last
    )
{%- endmacro %}
