-- Grain: one row per rated account-month x price model x component
-- (account_id, month, price_model_id, component_id).
-- Every rated account-month under every model of the price book, by the one rating engine
-- (macro rate_usage, docs/price-book.md). `amount` is exact; `amount_usd` is the shadow invoice's
-- line, rounded half-up to cents. A model with a spend cap of its own has one more line per
-- account-month, component `model_cap`: the cap's adjustment of the invoice total.
-- Incremental by month on DuckDB (macro rated_months_to_rebuild; configured in
-- dbt_project.yml): a run rates again only the months whose metrics or price book changed, and
-- under a model with a prepaid pool every month from the first of them on, its replay resuming
-- from the state the lines of the month before carry; `--full-refresh` gives the same lines. On
-- Spark (plain Parquet, no delete) a table.
{%- set rebuild_months = rated_months_to_rebuild() %}
{%- set metrics = ref('int_account_month_metrics_unpivoted') %}
{%- set usage_columns = "select account_id, month as period, metric, quantity, events from " %}
{%- set pool_models = "(select price_model_id from " ~ ref('price_components')
    ~ " where lower(trim(cast(charge_model as " ~ dbt.type_string() ~ "))) = 'prepaid_pool')" %}
{%- if rebuild_months is not none %}
{%- set month_literals = [] %}
{%- for month in rebuild_months %}
{%- do month_literals.append("cast('" ~ month ~ "' as date)") %}
{%- endfor %}
{%- set months_filter = "month in (" ~ (month_literals | join(", ")) ~ ")"
    if rebuild_months else "1 = 0" %}
{%- set pools_from = pool_replay_from(rebuild_months) %}
{%- if pools_from is none %}
{%- set pools_filter = "1 = 0" %}
{%- elif pools_from == '' %}
{%- set pools_filter = "1 = 1" %}
{%- else %}
{%- set pools_filter = "month >= cast('" ~ pools_from ~ "' as date)" %}
{%- endif %}
{%- endif %}
with

{% if rebuild_months is none -%}
rated as (
    {{ rate_usage(
        "(" ~ usage_columns ~ metrics ~ ")",
        ref('price_components'),
        ref('price_tiers'),
        ref('price_models'),
    ) | indent(4) }}
),
{%- else -%}
-- an incremental run: the months to rebuild under the models without a pool, and under a model
-- with one every month from the first rebuilt on (its carried units run through all of them),
-- resumed from the state its lines carry out of each account's period before
rated as (
    {%- for part, usage_filter, pool_models_are, pool_state in [
        ('months_rebuilt', months_filter, 'not in', none),
        ('pools_replayed', pools_filter, 'in', built_pool_state(pools_from) if pools_from else none)
    ] %}
    select *
    from (
        {{ rate_usage(
            "(" ~ usage_columns ~ metrics ~ " where " ~ usage_filter ~ ")",
            "(select * from " ~ ref('price_components') ~ " where price_model_id "
                ~ pool_models_are ~ " " ~ pool_models ~ ")",
            ref('price_tiers'),
            ref('price_models'),
            pool_state=pool_state,
        ) | indent(8) }}
    ) as {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),
{%- endif %}

-- each month's rating input fingerprint, carried by its lines: what the next run compares
fingerprints as (
    {{ rating_input_fingerprints(
        metrics, ref('price_components'), ref('price_tiers'), ref('price_models')
    ) | indent(4) }}
),

fingerprinted as (
    select
        rated.*,
        fingerprints.rating_input_fingerprint
    from rated
    inner join fingerprints
        on rated.period = fingerprints.month
),

final as (
    select
        account_id,
        period as month,
        price_model_id,
        component_id,
        metric,
        charge_model,
        quantity,
        events,
        units,
        amount,
        {{ round_half_up_to_cents('amount') }} as amount_usd,
        uncapped_amount,
        -- what the line would have billed without its cap, rounded as the invoice rounds (a
        -- model cap's line adjusts the total and bills nothing uncapped)
        {{ round_half_up_to_cents('uncapped_amount') }} as uncapped_amount_usd,
        capped_amount,
        blocked_units,
        is_over_cap,
        pool_opening_units,
        pool_available_units,
        pool_used_units,
        pool_overage_units,
        pool_expired_units,
        pool_closing_units,
        pool_alert_pct,
        pool_period_number,
        pool_carry_out,
        pool_term_used_units,
        pool_term_available_units,
        rating_input_fingerprint
    from fingerprinted
)

select * from final
