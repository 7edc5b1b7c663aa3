-- Grain: one row per metric the dashboard shows (metric).
-- The registry is analyses/_glossary.yml (analysis metric_glossary): each entry's definition is
-- the text of its docs block as dbt rendered it, so the dashboard's hover help and the dbt
-- docs say the same words; label and unit come from the entry's meta.
{%- set entries = glossary_entries('metric_glossary') %}
with

{% if entries -%}
definitions as (
    {%- for entry in entries %}
    select
        {{ sql_text_literal(entry.name) }} as metric,
        {{ sql_text_literal(entry.meta.get('label')) }} as label,
        {{ sql_text_literal(entry.description) }} as definition,
        {{ sql_text_literal(entry.meta.get('unit')) }} as unit,
        {{ loop.index }} as glossary_position
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- else -%}
-- while dbt parses, the registry is not read yet: the same columns, no rows
definitions as (
    select
        {{ sql_text_literal(none) }} as metric,
        {{ sql_text_literal(none) }} as label,
        {{ sql_text_literal(none) }} as definition,
        {{ sql_text_literal(none) }} as unit,
        0 as glossary_position
    where 1 = 0
),
{%- endif %}

final as (
    select
        metric,
        label,
        definition,
        unit,
        cast(glossary_position as {{ dbt.type_bigint() }}) as glossary_position
    from definitions
)

select * from final
