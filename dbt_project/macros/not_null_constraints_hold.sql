{#- The marts' contracts declare not_null constraints. DuckDB enforces them as a table is written
    (a null fails the model, naming the column). dbt-spark enforces constraints only on Delta
    tables (ALTER COLUMN SET NOT NULL, which plain Parquet refuses), so on Spark this post-hook of
    every contracted model counts the nulls of its not_null columns once the table is written and
    fails the model the same way: the contract means the same thing on both engines. -#}
{% macro not_null_constraints_hold() -%}
    {{ return(adapter.dispatch('not_null_constraints_hold', 'seatshift')()) }}
{%- endmacro %}

{% macro default__not_null_constraints_hold() -%}
{%- endmacro %}

{% macro spark__not_null_constraints_hold() -%}
    {%- if execute and model.resource_type == 'model' and model.config.contract.enforced -%}
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
                    count_if({{ name }} is null) as {{ name }}{{ "," if not loop.last }}
                {%- endfor %}
                from {{ this }}
            {%- endset -%}
            {%- set row = run_query(counts).rows[0] -%}
            {%- for name in columns -%}
                {%- if row[loop.index0] > 0 -%}
                    {{ exceptions.raise_compiler_error(
                        "NOT NULL constraint failed: " ~ this ~ "." ~ name ~ " holds "
                        ~ row[loop.index0] ~ " null(s)"
                    ) }}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
