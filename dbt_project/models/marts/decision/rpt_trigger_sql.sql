-- Grain: one row per published query (sql_name).
-- The migration trigger's verdict, compiled over a placeholder relation with its thresholds as
-- named parameters, so the dashboard's threshold what-if re-judges with the very SQL of this
-- build's fct_migration_triggers:
--   judge           reads trigger_signals (fct_migration_triggers' signal and shadow-window
--                   columns) and binds $trigger_automation_share_min, ... (the names of
--                   rpt_settings) as doubles.
--   shadow_windows  each proposal's trailing shadow billing (the shadow-window columns) from
--                   trigger_shadow_invoices (fct_shadow_invoice's columns and each account-month's
--                   MRR, mrr_usd), over every segment
--                   and month of trigger_segment_months and every price_model_id of
--                   trigger_proposals: the what-if of an edited price book judges its proposals
--                   with it and `judge`.
{%- set queries = [
    ('judge', 'with ' ~ migration_trigger_judgement(
        'trigger_signals', as_parameters=true)
        ~ ' select * from trigger_verdicts', migration_trigger_threshold_names()),
    ('shadow_windows', 'with ' ~ migration_trigger_shadow_windows(
        'trigger_shadow_invoices', 'trigger_segment_months', 'trigger_proposals')
        ~ ' select * from shadow_judged', []),
] %}

with

queries as (
    {%- for name, sql, parameters in queries %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as sql_name,
        cast('{{ sql | replace("'", "''") }}' as {{ dbt.type_string() }}) as sql_text,
        cast('{{ parameters | join(",") }}' as {{ dbt.type_string() }})
            as parameter_names
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from queries
