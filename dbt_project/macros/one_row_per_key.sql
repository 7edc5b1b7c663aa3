{#- Staging keeps one row per key (the export contract: a re-delivered key is a duplicate). The loader
    already keeps one row per key; staging re-applies the rule as a defence.

    one_row_per_key(relation, key_columns, keep) selects every column of `relation` (a CTE name)
    but for that one row per key:
    - keep='latest_version' (snapshot exports): the latest `updated_at` wins; ties go to the latest
      load, then the later file and row, so the choice never depends on scan order;
    - keep='first_delivery' (exports without `updated_at`): the first delivery wins. -#}
{% macro one_row_per_key(relation, key_columns, keep) -%}
    {%- if keep == 'latest_version' -%}
        {%- set version_order -%}
            updated_at desc nulls last,
            _loaded_at desc nulls last,
            _file_name desc nulls last,
            _row_number desc nulls last
        {%- endset -%}
    {%- elif keep == 'first_delivery' -%}
        {%- set version_order -%}
            _loaded_at nulls last, _file_name nulls last, _row_number nulls last
        {%- endset -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "one_row_per_key: keep must be 'latest_version' or 'first_delivery', not " ~ keep
        ) }}
    {%- endif -%}
    select {{ star_exclude(["version_rank"]) }}
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ version_order }}
            ) as version_rank
        from {{ relation }}
    ) as ranked
    where version_rank = 1
{%- endmacro %}
