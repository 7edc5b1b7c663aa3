{#- Shadow billing by month: what int_account_months_rated_by_price_model rebuilds on an
    incremental run (DuckDB; on Spark the model is a table, rebuilt whole).

    A month's lines under a model without a prepaid pool depend on that month's metrics and the
    price book only (tiers, minimums and caps apply per period), so each line carries its month's
    rating input fingerprint: a sum of a 64-bit hash over every metric row of the month (every
    account), plus the same over the price book's three tables. An incremental run compares the
    fingerprints of the metrics as they are now with those the lines carry and rebuilds the
    months that differ (a late event, a seat correction, a new month; a month no longer there is
    deleted); an edit of the price book changes every month's fingerprint, so everything is
    rebuilt. A prepaid pool carries units from period to period, so a model with one is rated
    again from the first month rebuilt on: its lines carry the state the replay carries out of
    each period (rate_usage's pool columns), and the replay resumes from the state of each
    account's period before that month (pool_replay_from, built_pool_state). Nothing differs:
    nothing is rated.

    rated_months_to_rebuild() is that list of months ('YYYY-MM-DD', oldest first), or none when
    the run is not incremental (a first build or --full-refresh: every line is rated). -#}

{#- A scalar subquery: the price book's fingerprint, over every column of every row. -#}
{% macro price_book_fingerprint(components, tiers, models) -%}
    (
        select coalesce(sum(row_fingerprint), 0)
        from (
            select {{ rating_row_fingerprint('book_components') }} as row_fingerprint
            from {{ components }} as book_components
            union all
            select {{ rating_row_fingerprint('book_tiers') }} as row_fingerprint
            from {{ tiers }} as book_tiers
            union all
            select {{ rating_row_fingerprint('book_models') }} as row_fingerprint
            from {{ models }} as book_models
        ) as book_rows
    )
{%- endmacro %}

{#- Per month of the metrics: the fingerprint a line of that month carries. -#}
{% macro rating_input_fingerprints(metrics, components, tiers, models) -%}
    select
        month,
        sum({{ rating_fingerprint(['account_id', 'metric', 'quantity', 'events']) }})
        + {{ price_book_fingerprint(components, tiers, models) }} as rating_input_fingerprint
    from {{ metrics }}
    group by month
{%- endmacro %}

{% macro rated_months_to_rebuild() -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- set changed_query -%}
        with

        now_fingerprints as (
            {{ rating_input_fingerprints(
                ref('int_account_month_metrics_unpivoted'), ref('price_components'),
                ref('price_tiers'), ref('price_models')
            ) }}
        ),

        built_fingerprints as (
            {%- if 'rating_input_fingerprint' in built_columns %}
            select distinct month, rating_input_fingerprint from {{ this }}
            {%- else %}
            -- built before the lines carried fingerprints: every month is rated again
            select distinct month, cast(null as decimal(38, 0)) as rating_input_fingerprint
            from {{ this }}
            {%- endif %}
        )

        select distinct cast(coalesce(now_fingerprints.month, built_fingerprints.month)
            as {{ dbt.type_string() }}) as month
        from now_fingerprints
        full outer join built_fingerprints
            on now_fingerprints.month = built_fingerprints.month
        where now_fingerprints.rating_input_fingerprint
            is distinct from built_fingerprints.rating_input_fingerprint
        order by 1
    {%- endset -%}
    {{ return(run_query(changed_query).columns[0].values() | list) }}
{%- endmacro %}

{#- Where an incremental run replays the prepaid pools from, given rated_months_to_rebuild():
    the first month rebuilt ('YYYY-MM-DD'), when the built pool lines carry the pools' state; ''
    (every month, from an empty pool) when some do not: lines built before they did, which keep
    a null state once the run that adds the columns has appended nothing; none when nothing is
    rebuilt. -#}
{% macro pool_replay_from(rebuild_months) -%}
    {%- if not rebuild_months -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name')
        | map('lower') | list -%}
    {%- if 'pool_period_number' not in built_columns -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stateless_query -%}
        select count(*) from {{ this }}
        where charge_model = 'prepaid_pool' and pool_period_number is null
    {%- endset -%}
    {%- if run_query(stateless_query).columns[0].values()[0] > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(rebuild_months[0]) }}
{%- endmacro %}

{#- The state of each account's pool (account, model, component) carried out of its last period
    before `from_month`, from the built lines: rate_usage's pool_state. -#}
{% macro built_pool_state(from_month) -%}
    (
        select
            account_id,
            price_model_id,
            component_id,
            pool_period_number,
            pool_carry_out,
            pool_closing_units,
            pool_term_used_units,
            pool_term_available_units
        from (
            select
                *,
                row_number() over (
                    partition by account_id, price_model_id, component_id
                    order by month desc
                ) as state_rank
            from {{ this }}
            where charge_model = 'prepaid_pool' and month < cast('{{ from_month }}' as date)
        ) as built_pool_lines
        where state_rank = 1
    )
{%- endmacro %}

{#- The model's pre-hook: the lines an incremental run rates again are deleted first (the
    rebuilt months under every model, and under a model with a prepaid pool every month from the
    first rebuilt on), so that appending the run's lines leaves one version of each. -#}
{% macro delete_rated_months_to_rebuild() -%}
    {%- set months = rated_months_to_rebuild() -%}
    {%- if months -%}
        {%- set pools_from = pool_replay_from(months) -%}
        delete from {{ this }}
        where month in (
            {%- for month in months %}
            cast('{{ month }}' as date){{ "," if not loop.last }}
            {%- endfor %}
        )
        or (
            price_model_id in (
                select price_model_id from {{ ref('price_components') }}
                where lower(trim(cast(charge_model as {{ dbt.type_string() }}))) = 'prepaid_pool'
            )
            {%- if pools_from %}
            and month >= cast('{{ pools_from }}' as date)
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}
