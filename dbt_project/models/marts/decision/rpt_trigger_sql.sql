-- Grain: one row per published query (sql_name).
-- The migration trigger's verdict, compiled over a placeholder relation with its thresholds as
-- named parameters, so the dashboard's threshold what-if re-judges with the very SQL of this
-- build's fct_migration_triggers:
--   judge  reads trigger_signals (fct_migration_triggers' signal and shadow-window columns) and
--          binds $trigger_automation_share_min, ... (the names of rpt_settings) as doubles.
{%- set queries = [
    ('judge', 'with ' ~ migration_trigger_judgement(
        'trigger_signals', as_parameters=true)
        ~ ' select * from trigger_verdicts'),
] %}

with

queries as (
    {%- for name, sql in queries %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as sql_name,
        cast('{{ sql | replace("'", "''") }}' as {{ dbt.type_string() }}) as sql_text,
        cast('{{ migration_trigger_threshold_names() | join(",") }}' as {{ dbt.type_string() }})
            as parameter_names
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from queries
