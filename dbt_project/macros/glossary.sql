{#- The glossary registries (analyses/_glossary.yml): one YAML column per metric or setting, its
    description written once (a metric's is its {% docs %} block). dbt renders those descriptions
    into the graph while it parses, so at execution time a model reads them back here and the docs
    blocks become rows: nothing is typed twice. Returns [] while dbt parses (the graph is not
    complete then); a missing registry is a compile error, not an empty table. -#}
{% macro glossary_entries(analysis_name) -%}
    {%- set entries = [] -%}
    {%- if execute -%}
        {%- set node = graph.nodes.get('analysis.' ~ project_name ~ '.' ~ analysis_name) -%}
        {%- if node is none -%}
            {{ exceptions.raise_compiler_error(
                "The glossary registry analyses/" ~ analysis_name ~ ".sql is missing: "
                ~ "its YAML (analyses/_glossary.yml) lists the entries to publish.") }}
        {%- endif -%}
        {%- for column in node.columns.values() -%}
            {%- set meta = (column.config or {}).get('meta') or column.meta or {} -%}
            {%- do entries.append({
                'name': column.name,
                'description': (column.description or '') | trim,
                'meta': meta,
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(entries) }}
{%- endmacro %}


{#- A text value as a SQL string literal (null for none). -#}
{% macro sql_text_literal(value) -%}
    {%- if value is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        cast('{{ value | string | replace("'", "''") }}' as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#- A var's value as text the way an analyst writes it in --vars: true/false, numbers as given. -#}
{% macro setting_text(value) -%}
    {%- if value is none -%}
        {{ return(none) }}
    {%- elif value is sameas true -%}
        {{ return('true') }}
    {%- elif value is sameas false -%}
        {{ return('false') }}
    {%- elif value is mapping or (value is iterable and value is not string) -%}
        {{ return(value | tojson) }}
    {%- else -%}
        {{ return(value | string) }}
    {%- endif -%}
{%- endmacro %}
