-- Grain: one row per setting in force for this build (name).
-- Every dbt var of dbt_project.yml's setting_defaults, plus any var passed with --vars that is not
-- one of them (named, so a typo is seen rather than silently ignored). value is what the build
-- used (--vars, else the default); default_value is dbt_project.yml's, read from the
-- setting_defaults anchor that --vars leaves alone. Descriptions and units come from the registry
-- analyses/_glossary.yml (analysis setting_glossary).
{%- set defaults = var('setting_defaults') %}
{#- (a linter renders this file without dbt: no mapping, no invocation) #}
{%- if defaults is not mapping %}{% set defaults = {} %}{% endif %}
{%- set passed = (invocation_args_dict.get('vars') if invocation_args_dict is mapping) or {} %}
{%- set described = {} %}
{%- for entry in glossary_entries('setting_glossary') %}
    {%- do described.update({entry.name: entry}) %}
{%- endfor %}
{%- set names = [] %}
{%- for name in defaults %}{% do names.append(name) %}{% endfor %}
{%- for name in passed %}
    {%- if name not in defaults and name != 'setting_defaults' %}{% do names.append(name) %}{% endif %}
{%- endfor %}
with

{% if names -%}
settings as (
    {%- for name in names %}
    {%- set entry = described.get(name) %}
    select
        {{ sql_text_literal(name) }} as name,
        {{ sql_text_literal(setting_text(var(name))) }} as value,
        {{ sql_text_literal(setting_text(defaults.get(name))) }} as default_value,
        {{ sql_text_literal(
            entry.description if entry
            else none if name in defaults
            else 'Not a setting of this project: passed with --vars, but no setting has this name.'
        ) }} as description,
        {{ sql_text_literal(entry.meta.get('unit') if entry else none) }} as unit,
        {{ 'true' if name in defaults else 'false' }} as is_known_setting,
        {{ loop.index }} as setting_position
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- else -%}
-- no settings to list (only a linter renders it so): the same columns, no rows
settings as (
    select
        {{ sql_text_literal(none) }} as name,
        {{ sql_text_literal(none) }} as value,
        {{ sql_text_literal(none) }} as default_value,
        {{ sql_text_literal(none) }} as description,
        {{ sql_text_literal(none) }} as unit,
        false as is_known_setting,
        0 as setting_position
    where 1 = 0
),
{%- endif %}

final as (
    select
        name,
        value,
        default_value,
        description,
        unit,
        is_known_setting,
        coalesce(value <> default_value, (value is null) <> (default_value is null))
            as is_overridden,
        cast(setting_position as {{ dbt.type_bigint() }}) as setting_position
    from settings
)

select * from final
