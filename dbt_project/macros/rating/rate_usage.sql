{#- The rating engine of docs/price-book.md, written once.

    rate_usage(usage, components, tiers) is a whole query over three relations:
      usage:      account_id, period (date), metric, quantity, events
      components: the columns of price_components.csv (typed seeds or CSV text alike)
      tiers:      the columns of price_tiers.csv
    It returns one row per account-period of the usage x every component of every price model,
    with the exact charge (`amount`, no intermediate rounding) and, for `prepaid_pool`, the pool's
    balances, breakage and usage alerts.

    Shadow billing calls it from dbt over the account-month metrics; rpt_rating_sql publishes the
    same text compiled over placeholder relations, which `seatshift rate` and the dashboard's what-if
    run in DuckDB: one implementation, three callers. -#}
{% macro rate_usage(usage, components, tiers) -%}
with recursive

components_typed as (
    select
        {{ price_book_text('price_model_id') }} as price_model_id,
        {{ price_book_text('component_id') }} as component_id,
        {{ price_book_text('metric') }} as metric,
        lower({{ price_book_text('charge_model') }}) as charge_model,
        coalesce({{ price_book_number('unit_size') }}, 1) as unit_size,
        coalesce({{ price_book_number('unit_amount') }}, 0) as unit_amount,
        coalesce({{ price_book_number('flat_amount') }}, 0) as flat_amount,
        {{ price_book_number('package_size') }} as package_size,
        coalesce({{ price_book_number('package_amount') }}, 0) as package_amount,
        coalesce({{ price_book_number('free_units') }}, 0) as free_units,
        {{ price_book_text('free_units_per_metric') }} as free_units_per_metric,
        coalesce({{ price_book_number('rate_pct') }}, 0) as rate_pct,
        coalesce({{ price_book_number('fixed_amount') }}, 0) as fixed_amount,
        coalesce({{ price_book_number('pool_units') }}, 0) as pool_units,
        -- an unset cap is no cap: all of a period's unused allotment rolls over
        coalesce({{ price_book_number('rollover_pct') }}, 100) as rollover_pct,
        cast(coalesce({{ price_book_number('rollover_periods') }}, 1) as integer)
            as rollover_periods,
        {{ price_book_number('minimum_amount') }} as minimum_amount
    from {{ components }}
),

-- Only the metrics some component prices or counts an allowance by are summed (a what-if of
-- one model reads about a tenth of the rows); every account-period is still rated (a platform
-- fee needs no usage), so account_periods reads the whole usage relation.
usage_input as (
    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(period as date) as period,
        cast(metric as {{ dbt.type_string() }}) as metric,
        sum(cast(quantity as {{ rating_decimal() }})) as quantity,
        sum(coalesce(cast(events as {{ rating_decimal() }}), 0)) as events
    from {{ usage }}
    where cast(metric as {{ dbt.type_string() }}) in (
        select metric from components_typed
        union all
        select free_units_per_metric from components_typed
    )
    group by
        cast(account_id as {{ dbt.type_string() }}),
        cast(period as date),
        cast(metric as {{ dbt.type_string() }})
),

account_periods as (
    select distinct
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(period as date) as period
    from {{ usage }}
),

tiers_typed as (
    select
        {{ price_book_text('price_model_id') }} as price_model_id,
        {{ price_book_text('component_id') }} as component_id,
        cast({{ price_book_number('tier') }} as integer) as tier,
        {{ price_book_number('up_to') }} as up_to,
        coalesce({{ price_book_number('per_unit_amount') }}, 0) as per_unit_amount,
        coalesce({{ price_book_number('rate_pct') }}, 0) as rate_pct,
        coalesce({{ price_book_number('flat_amount') }}, 0) as flat_amount
    from {{ tiers }}
),

tiers_bounded as (
    select
        *,
        -- tier 1 covers the units from 0; tier k those above tier k-1's up_to
        coalesce(
            lag(up_to) over (partition by price_model_id, component_id order by tier),
            0
        ) as previous_up_to,
        row_number() over (partition by price_model_id, component_id order by tier)
            as tier_position
    from tiers_typed
),

component_periods as (
    select
        account_periods.account_id,
        account_periods.period,
        components_typed.*,
        case
            when components_typed.metric = 'platform' then cast(1 as {{ rating_decimal() }})
            else coalesce(metric_usage.quantity, 0)
        end as quantity,
        case
            when components_typed.metric = 'platform' then cast(0 as {{ rating_decimal() }})
            else coalesce(metric_usage.events, 0)
        end as events,
        {{ multiply_exactly(
            'components_typed.free_units',
            "case
                when components_typed.free_units_per_metric is null then 1
                when components_typed.free_units_per_metric = 'platform' then 1
                else coalesce(free_metric_usage.quantity, 0)
            end"
        ) }} as free
    from account_periods
    cross join components_typed
    left join usage_input as metric_usage
        on account_periods.account_id = metric_usage.account_id
            and account_periods.period = metric_usage.period
            and components_typed.metric = metric_usage.metric
    left join usage_input as free_metric_usage
        on account_periods.account_id = free_metric_usage.account_id
            and account_periods.period = free_metric_usage.period
            and components_typed.free_units_per_metric = free_metric_usage.metric
),

component_units as (
    select
        *,
        -- one unit per unit of the metric needs no division: the exact scaled-integer division
        -- was about a seventh of the rating's time
        case
            when unit_size = 1 then quantity
            else {{ divide_exactly('quantity', 'unit_size') }}
        end as units
    from component_periods
),

graduated_tier_charges as (
    select
        component_units.account_id,
        component_units.period,
        component_units.price_model_id,
        component_units.component_id,
        sum(
            case
                -- the first tier is always reached (its flat amount is charged even at zero);
                -- tier k > 1 only when the units are strictly above the previous up_to
                when tiers_bounded.tier_position = 1
                    or component_units.units > tiers_bounded.previous_up_to
                    then {{ multiply_exactly(
                        "greatest(
                            least(
                                component_units.units,
                                coalesce(tiers_bounded.up_to, component_units.units)
                            ) - tiers_bounded.previous_up_to,
                            0
                        )",
                        "case
                            when component_units.charge_model = 'graduated_percentage'
                                then tiers_bounded.rate_pct * 0.01
                            else tiers_bounded.per_unit_amount
                        end"
                    ) }} + tiers_bounded.flat_amount
                else 0
            end
        ) as amount
    from component_units
    inner join tiers_bounded
        on component_units.price_model_id = tiers_bounded.price_model_id
            and component_units.component_id = tiers_bounded.component_id
    where component_units.charge_model in ('graduated', 'graduated_percentage')
    group by
        component_units.account_id,
        component_units.period,
        component_units.price_model_id,
        component_units.component_id
),

volume_tiers_matched as (
    select
        component_units.account_id,
        component_units.period,
        component_units.price_model_id,
        component_units.component_id,
        {{ multiply_exactly('component_units.units', 'tiers_bounded.per_unit_amount') }}
        + tiers_bounded.flat_amount as amount,
        -- the single tier whose range holds the units: the first with units <= up_to
        row_number() over (
            partition by
                component_units.account_id,
                component_units.period,
                component_units.price_model_id,
                component_units.component_id
            order by tiers_bounded.tier
        ) as match_rank
    from component_units
    inner join tiers_bounded
        on component_units.price_model_id = tiers_bounded.price_model_id
            and component_units.component_id = tiers_bounded.component_id
            and (tiers_bounded.up_to is null or component_units.units <= tiers_bounded.up_to)
    where component_units.charge_model = 'volume'
),

volume_tier_charges as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        amount
    from volume_tiers_matched
    where match_rank = 1
),

{{ prepaid_pool_replay('component_units') }},

charged as (
    select
        component_units.account_id,
        component_units.period,
        component_units.price_model_id,
        component_units.component_id,
        component_units.metric,
        component_units.charge_model,
        component_units.quantity,
        component_units.events,
        component_units.units,
        component_units.minimum_amount,
        case component_units.charge_model
            when 'flat_fee' then component_units.flat_amount
            when 'standard' then {{ multiply_exactly(
                'greatest(component_units.units - component_units.free, 0)',
                'component_units.unit_amount'
            ) }}
            when 'package' then
                case
                    when component_units.units - component_units.free <= 0 then 0
                    else {{ ceil_divide_exactly(
                        'component_units.units - component_units.free',
                        'component_units.package_size'
                    ) }} * component_units.package_amount
                end
            when 'percentage' then
                {{ multiply_exactly(
                    'greatest(component_units.units - component_units.free, 0)',
                    'component_units.rate_pct * 0.01'
                ) }}
                + case
                    when component_units.units > 0
                        then {{ multiply_exactly(
                            'component_units.events', 'component_units.fixed_amount'
                        ) }}
                    else 0
                end
            when 'graduated' then coalesce(graduated_tier_charges.amount, 0)
            when 'graduated_percentage' then coalesce(graduated_tier_charges.amount, 0)
            when 'volume' then coalesce(volume_tier_charges.amount, 0)
            when 'prepaid_pool' then component_units.flat_amount
                + {{ multiply_exactly(
                    'pool_replayed.overage_units', 'component_units.unit_amount'
                ) }}
        end as charge,
        pool_replayed.opening_units as pool_opening_units,
        pool_replayed.available_units as pool_available_units,
        pool_replayed.used_units as pool_used_units,
        pool_replayed.overage_units as pool_overage_units,
        pool_replayed.expired_units as pool_expired_units,
        pool_replayed.closing_units as pool_closing_units,
        pool_replayed.alert_pct as pool_alert_pct
    from component_units
    left join graduated_tier_charges
        on component_units.account_id = graduated_tier_charges.account_id
            and component_units.period = graduated_tier_charges.period
            and component_units.price_model_id = graduated_tier_charges.price_model_id
            and component_units.component_id = graduated_tier_charges.component_id
    left join volume_tier_charges
        on component_units.account_id = volume_tier_charges.account_id
            and component_units.period = volume_tier_charges.period
            and component_units.price_model_id = volume_tier_charges.price_model_id
            and component_units.component_id = volume_tier_charges.component_id
    left join pool_replayed
        on component_units.account_id = pool_replayed.account_id
            and component_units.period = pool_replayed.period
            and component_units.price_model_id = pool_replayed.price_model_id
            and component_units.component_id = pool_replayed.component_id
),

rated as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        metric,
        charge_model,
        quantity,
        events,
        units,
        cast(
            case
                when minimum_amount is not null and charge < minimum_amount then minimum_amount
                else charge
            end as {{ rating_decimal() }}
        ) as amount,
        pool_opening_units,
        pool_available_units,
        pool_used_units,
        pool_overage_units,
        pool_expired_units,
        pool_closing_units,
        pool_alert_pct
    from charged
)

select * from rated
{%- endmacro %}
