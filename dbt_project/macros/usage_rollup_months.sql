{#- The months an incremental run of a usage rollup rebuilds, shared by the two rollups
    (int_usage_events_rolled_up_to_account_month, int_usage_events_rolled_up_to_actor_month), so
    that both restate the same months the same way.

    var('usage_rollup_rebuild_months') (a list of 'YYYY-MM-DD') overrides the detection: to rebuild
    chosen months by hand, and for the unit tests, whose fixtures run_query cannot see. Otherwise,
    on an incremental run, the months of the rows loaded since the model's own last build (its
    max(last_loaded_at), read first and compared as a literal); on a first build or
    --full-refresh, none (the filter is not rendered). -#}
{% macro usage_rollup_touched_months() -%}
    {%- set touched_months = var('usage_rollup_rebuild_months', none) -%}
    {%- if touched_months is none -%}
        {%- set touched_months = [] -%}
        {%- if execute and is_incremental() and load_relation(this) is not none -%}
            {#- The model's own watermark first, then the batches after it as a literal: a
                literal reaches the lake parts' statistics, so only the new parts are read
                (compared with a subquery, every delivered row's load time was read: 3 s of
                each rollup's build at 100M events). -#}
            {%- set watermark_query -%}
                select cast(
                    coalesce(max(last_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
                    as {{ dbt.type_string() }}
                )
                from {{ this }}
            {%- endset -%}
            {%- set watermark = run_query(watermark_query).columns[0].values()[0] -%}
            {%- set touched_months_query -%}
                select distinct cast(batches.month as {{ dbt.type_string() }}) as month
                from {{ ref('int_usage_event_deliveries_counted_to_batch_month') }} as batches
                where batches._loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
                order by 1
            {%- endset -%}
            {%- set touched_months = run_query(touched_months_query).columns[0].values() | list -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(touched_months) }}
{%- endmacro %}


{#- The where clause of an incremental run: the touched months' events, as literals. A literal
    range on occurred_at reaches the raw table's zone maps (a subquery would not). Nothing touched:
    no month to rebuild. -#}
{% macro usage_rollup_months_filter(touched_months, timestamp_column='occurred_at') -%}
    {%- if touched_months %}
    where {{ timestamp_column }} >= cast('{{ touched_months[0] }}' as {{ dbt.type_timestamp() }})
        and {{ timestamp_column }} < {{ dbt.dateadd('month', 1, "cast('" ~ touched_months[-1]
            ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
        and {{ month_of(timestamp_column) }} in (
            {%- for month in touched_months %}
            cast('{{ month }}' as date){{ "," if not loop.last }}
            {%- endfor %}
        )
    {%- else %}
    -- nothing loaded since the last build: no month to rebuild
    where 1 = 0
    {%- endif %}
{%- endmacro %}
