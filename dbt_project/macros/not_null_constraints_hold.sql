{#- A column's not null is declared once, as a `not_null` constraint in its model's YAML, on every
    layer (a data test per column cost a build a dbt node each: about 60 ms of dbt's own work on
    DuckDB, a Spark job on Spark, for a check this hook makes in one query per model).
    Where the engine enforces the constraint itself (DuckDB, on a table whose contract is
    enforced: the marts) a null fails the model as the table is written, naming the column. Where it
    does not (a model without a contract: staging and intermediate; a view, whose constraints no
    engine enforces, declared with `warn_unsupported: false` so that dbt does not warn of it; and
    Spark on plain Parquet, where dbt-spark enforces constraints only on Delta tables), this
    post-hook of every model counts the nulls of its not_null columns once the relation is written
    and fails the model the same way. So the constraint means the same thing on every layer and
    both engines. -#}
{% macro not_null_constraints_hold() -%}
    {{ return(adapter.dispatch('not_null_constraints_hold', 'seatshift')()) }}
{%- endmacro %}

{% macro default__not_null_constraints_hold() -%}
    {%- if execute and model.resource_type == 'model'
        and (not model.config.contract.enforced or model.config.materialized == 'view') -%}
        {{ seatshift.count_nulls_of_not_null_columns() }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__not_null_constraints_hold() -%}
    {%- if execute and model.resource_type == 'model' -%}
        {{ seatshift.count_nulls_of_not_null_columns() }}
    {%- endif -%}
{%- endmacro %}

{% macro count_nulls_of_not_null_columns() -%}
    {%- set columns = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- for constraint in column.constraints -%}
            {%- if constraint.type == 'not_null' and name not in columns -%}
                {%- do columns.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in model.constraints -%}
        {%- if constraint.type == 'not_null' -%}
            {%- for name in constraint.columns if name not in columns -%}
                {%- do columns.append(name) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if columns -%}
        {%- set counts -%}
            select
            {%- for name in columns %}
                sum(case when {{ adapter.quote(name) }} is null then 1 else 0 end) as n{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
            from {{ this }}
        {%- endset -%}
        {%- set row = run_query(counts).rows[0] -%}
        {%- for name in columns -%}
            {%- if (row[loop.index0] or 0) > 0 -%}
                {{ exceptions.raise_compiler_error(
                    "NOT NULL constraint failed: " ~ this ~ "." ~ name ~ " holds "
                    ~ row[loop.index0] ~ " null(s)"
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
