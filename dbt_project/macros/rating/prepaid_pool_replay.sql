{#- The replay of prepaid_pool components across periods (docs/price-book.md), as CTEs named
    pool_periods and pool_replayed for rate_usage's WITH RECURSIVE list.

    Each period the account buys pool_units. Usage burns the oldest unexpired units first: units
    rolled over from earlier periods (oldest first), then the new allotment; beyond that it is
    overage. Of the new allotment's unused units, at most rollover_pct % of pool_units roll into
    the next period (the rest expires at once: breakage), and rolled units live rollover_periods more
    periods (default 1) before what is left of them expires. Periods are an account's rated
    periods in order, so a gap in the input does not age the units.

    The state carried from period to period is a list of rolled-over units by age (position 1
    expires at the end of the period), so this is a recursive CTE over lists: DuckDB syntax, behind
    dispatch.

    `pool_state` (optional; DuckDB only) resumes the replay: per account, model and component, the
    state a rated line carries out of the period before the input's first (its number among the
    account's periods, the rolled-over vintages, the units it closed with, and what its term has
    used and had available; what is left of the term's allotment is the closing units less the
    rolled-over ones), so that the input holds only the periods from there on and they are
    numbered, charged and aged as a replay from the first period would. Without it, or for a
    pool it has no row for, the replay starts from an empty pool at period 1. -#}
{% macro prepaid_pool_replay(component_units, pool_state=none) -%}
    {{ return(adapter.dispatch('prepaid_pool_replay')(component_units, pool_state)) }}
{%- endmacro %}

{% macro default__prepaid_pool_replay(component_units, pool_state=none) -%}
    {{ exceptions.raise_compiler_error(
        "prepaid_pool_replay has no implementation for adapter " ~ adapter.type()
    ) }}
{%- endmacro %}

{#- One period's outcome from `step`: a pool period with the state carried into it (carry_in, the
    rolled-over vintages, oldest first; term_left_in, what is left of the term's allotment; and the
    term's usage and available units so far). A term's first period buys the allotment; its last
    rolls the unused allotment over (capped) and ages the vintages, the oldest expiring. With one
    period per term (the default) every period is a term. -#}
{% macro _duckdb_pool_step(step_query) -%}
    select
        burned.account_id,
        burned.period,
        burned.price_model_id,
        burned.component_id,
        burned.period_number,
        burned.units,
        burned.pool_units,
        burned.rollover_cap,
        burned.rollover_periods,
        burned.term_periods,
        burned.is_term_start,
        burned.is_term_end,
        burned.carry_in,
        burned.carry_sum + burned.allotment_in - burned.new_allotment as opening_units,
        burned.carry_sum + burned.allotment_in as available_units,
        least(burned.units, burned.carry_sum + burned.allotment_in) as used_units,
        greatest(burned.units - burned.from_carry - burned.allotment_in, 0) as overage_units,
        cast(
            case
                when not burned.is_term_end then 0
                when burned.rollover_periods >= 1
                    then coalesce(burned.carry_left[1], 0)
                    + burned.allotment_left - burned.allotment_rolled
                else burned.allotment_left
            end as {{ rating_decimal() }}
        ) as expired_units,
        cast(
            case
                when not burned.is_term_end then burned.carry_left
                when burned.rollover_periods >= 1
                    then burned.carry_left[2:] || [burned.allotment_rolled]
                else []
            end as {{ rating_decimal() }}[]
        ) as carry_out,
        cast(
            case when burned.is_term_end then 0 else burned.allotment_left end
            as {{ rating_decimal() }}
        ) as term_left_out,
        cast(
            case
                when not burned.is_term_end
                    then coalesce(list_sum(burned.carry_left), 0) + burned.allotment_left
                when burned.rollover_periods >= 1
                    then coalesce(list_sum(burned.carry_left[2:]), 0) + burned.allotment_rolled
                else 0
            end as {{ rating_decimal() }}
        ) as closing_units,
        burned.term_used,
        burned.term_available,
        case
            when burned.term_used >= burned.term_available
                and burned.term_used > 0 then 100
            when burned.term_used >= 0.9 * burned.term_available
                and burned.term_used > 0 then 90
            when burned.term_used >= 0.7 * burned.term_available
                and burned.term_used > 0 then 70
            else 0
        end as alert_pct
    from (
        select
            drawn.*,
            case
                when drawn.is_term_end and drawn.rollover_periods >= 1
                    then least(drawn.allotment_left, drawn.rollover_cap)
                else 0
            end as allotment_rolled,
            cast(
                case when drawn.is_term_start then drawn.units else drawn.term_used_in + drawn.units end
                as {{ rating_decimal() }}
            ) as term_used,
            cast(
                case
                    when drawn.is_term_start then drawn.carry_sum + drawn.pool_units
                    else drawn.term_available_in
                end as {{ rating_decimal() }}
            ) as term_available
        from (
            select
                bought.*,
                least(bought.units, bought.carry_sum) as from_carry,
                greatest(
                    bought.allotment_in - (bought.units - least(bought.units, bought.carry_sum)),
                    0
                ) as allotment_left,
                -- oldest first: what is left of each rolled vintage after this period's usage
                list_transform(
                    bought.carry_in,
                    lambda carried, position: greatest(
                        carried - greatest(
                            bought.units - coalesce(list_sum(bought.carry_in[1:position - 1]), 0), 0
                        ),
                        0
                    )
                ) as carry_left
            from (
                select
                    step.*,
                    coalesce(list_sum(step.carry_in), 0) as carry_sum,
                    case when step.is_term_start then step.pool_units else 0 end as new_allotment,
                    case
                        when step.is_term_start then step.pool_units else step.term_left_in
                    end as allotment_in
                from ({{ step_query }}) as step
            ) as bought
        ) as drawn
    ) as burned
{%- endmacro %}

{% macro duckdb__prepaid_pool_replay(component_units, pool_state=none) -%}
pool_periods as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        units,
        pool_units,
        cast(pool_units * rollover_pct * 0.01 as {{ rating_decimal() }}) as rollover_cap,
        greatest(rollover_periods, 0) as rollover_periods,
        term_periods,
        -- terms run from the account's first rated period: periods 1..n, n+1..2n, ...
        (period_number - 1) % term_periods = 0 as is_term_start,
        period_number % term_periods = 0 as is_term_end,
        period_number,
        first_period_number,
        state_carry_out,
        state_term_left,
        state_term_used,
        state_term_available
    from (
        {#- resumed, the periods are numbered on from the one the state was carried out of #}
        {%- set numbered_on = '' if pool_state is none
            else 'coalesce(pool_state.pool_period_number, 0) + ' %}
        select
            pool_units_in.*,
            greatest(pool_units_in.pool_term_periods, 1) as term_periods,
            {{ numbered_on }}row_number() over (
                partition by
                    pool_units_in.account_id,
                    pool_units_in.price_model_id,
                    pool_units_in.component_id
                order by pool_units_in.period
            ) as period_number,
            {{ numbered_on }}cast(1 as bigint) as first_period_number,
            {%- if pool_state is none %}
            cast(null as {{ rating_decimal() }}[]) as state_carry_out,
            cast(null as {{ rating_decimal() }}) as state_term_left,
            cast(null as {{ rating_decimal() }}) as state_term_used,
            cast(null as {{ rating_decimal() }}) as state_term_available
            {%- else %}
            pool_state.pool_carry_out as state_carry_out,
            -- what is left of the term's allotment: the units the period closed with, less
            -- those it rolled over (0 when the term ended with it)
            cast(
                pool_state.pool_closing_units - coalesce(list_sum(pool_state.pool_carry_out), 0)
                as {{ rating_decimal() }}
            ) as state_term_left,
            pool_state.pool_term_used_units as state_term_used,
            pool_state.pool_term_available_units as state_term_available
            {%- endif %}
        from {{ component_units }} as pool_units_in
        {%- if pool_state is not none %}
        left join {{ pool_state }} as pool_state
            on pool_units_in.account_id = pool_state.account_id
                and pool_units_in.price_model_id = pool_state.price_model_id
                and pool_units_in.component_id = pool_state.component_id
        {%- endif %}
        where pool_units_in.charge_model = 'prepaid_pool'
    ) as numbered
),

pool_replayed as (
    {{ _duckdb_pool_step(
        "select
            pool_periods.*,
            coalesce(
                pool_periods.state_carry_out,
                cast(
                    list_transform(
                        range(pool_periods.rollover_periods),
                        lambda position: 0
                    ) as " ~ rating_decimal() ~ "[]
                )
            ) as carry_in,
            coalesce(pool_periods.state_term_left, 0) as term_left_in,
            coalesce(pool_periods.state_term_used, 0) as term_used_in,
            coalesce(pool_periods.state_term_available, 0) as term_available_in
        from pool_periods
        where pool_periods.period_number = pool_periods.first_period_number"
    ) }}
    union all
    {{ _duckdb_pool_step(
        "select
            pool_periods.*,
            pool_replayed.carry_out as carry_in,
            pool_replayed.term_left_out as term_left_in,
            pool_replayed.term_used as term_used_in,
            pool_replayed.term_available as term_available_in
        from pool_replayed
        inner join pool_periods
            on pool_replayed.account_id = pool_periods.account_id
                and pool_replayed.price_model_id = pool_periods.price_model_id
                and pool_replayed.component_id = pool_periods.component_id
                and pool_periods.period_number = pool_replayed.period_number + 1"
    ) }}
)
{%- endmacro %}

{#- Spark (4.1 and later has recursive CTEs): the same replay over arrays. Arrays are 1-based for
    element_at and slice and 0-based in transform's index; a sum of an array is an aggregate held
    at the rating decimal (Spark would otherwise widen it at each step). -#}
{% macro _spark_array_sum(array) -%}
    aggregate(
        {{ array }},
        cast(0 as {{ rating_decimal() }}),
        (total, units) -> cast(total + units as {{ rating_decimal() }})
    )
{%- endmacro %}

{% macro _spark_pool_step(step_query) -%}
    select
        burned.account_id,
        burned.period,
        burned.price_model_id,
        burned.component_id,
        burned.period_number,
        burned.units,
        burned.pool_units,
        burned.rollover_cap,
        burned.rollover_periods,
        burned.term_periods,
        burned.is_term_start,
        burned.is_term_end,
        burned.carry_in,
        cast(burned.carry_sum + burned.allotment_in - burned.new_allotment as {{ rating_decimal() }})
            as opening_units,
        cast(burned.carry_sum + burned.allotment_in as {{ rating_decimal() }}) as available_units,
        least(burned.units, burned.carry_sum + burned.allotment_in) as used_units,
        greatest(burned.units - burned.from_carry - burned.allotment_in, 0) as overage_units,
        cast(
            case
                when not burned.is_term_end then 0
                when burned.rollover_periods >= 1
                    then coalesce(try_element_at(burned.carry_left, 1), 0)
                    + burned.allotment_left - burned.allotment_rolled
                else burned.allotment_left
            end as {{ rating_decimal() }}
        ) as expired_units,
        cast(
            case
                when not burned.is_term_end then burned.carry_left
                when burned.rollover_periods >= 1
                    then concat(
                        slice(burned.carry_left, 2, greatest(size(burned.carry_left), 1)),
                        array(burned.allotment_rolled)
                    )
                else array()
            end as array<{{ rating_decimal() }}>
        ) as carry_out,
        cast(
            case when burned.is_term_end then 0 else burned.allotment_left end
            as {{ rating_decimal() }}
        ) as term_left_out,
        cast(
            case
                when not burned.is_term_end
                    then {{ _spark_array_sum('burned.carry_left') }} + burned.allotment_left
                when burned.rollover_periods >= 1
                    then {{ _spark_array_sum(
                        'slice(burned.carry_left, 2, greatest(size(burned.carry_left), 1))'
                    ) }} + burned.allotment_rolled
                else 0
            end as {{ rating_decimal() }}
        ) as closing_units,
        burned.term_used,
        burned.term_available,
        case
            when burned.term_used >= burned.term_available
                and burned.term_used > 0 then 100
            when burned.term_used >= 0.9 * burned.term_available
                and burned.term_used > 0 then 90
            when burned.term_used >= 0.7 * burned.term_available
                and burned.term_used > 0 then 70
            else 0
        end as alert_pct
    from (
        select
            drawn.*,
            case
                when drawn.is_term_end and drawn.rollover_periods >= 1
                    then least(drawn.allotment_left, drawn.rollover_cap)
                else 0
            end as allotment_rolled,
            cast(
                case when drawn.is_term_start then drawn.units else drawn.term_used_in + drawn.units end
                as {{ rating_decimal() }}
            ) as term_used,
            cast(
                case
                    when drawn.is_term_start then drawn.carry_sum + drawn.pool_units
                    else drawn.term_available_in
                end as {{ rating_decimal() }}
            ) as term_available
        from (
            select
                bought.*,
                least(bought.units, bought.carry_sum) as from_carry,
                cast(greatest(
                    bought.allotment_in - (bought.units - least(bought.units, bought.carry_sum)),
                    0
                ) as {{ rating_decimal() }}) as allotment_left,
                -- oldest first: what is left of each rolled vintage after this period's usage
                transform(
                    bought.carry_in,
                    (carried, earlier) -> cast(greatest(
                        carried - greatest(
                            bought.units - {{ _spark_array_sum('slice(bought.carry_in, 1, earlier)') }}, 0
                        ),
                        0
                    ) as {{ rating_decimal() }})
                ) as carry_left
            from (
                select
                    step.*,
                    {{ _spark_array_sum('step.carry_in') }} as carry_sum,
                    cast(
                        case when step.is_term_start then step.pool_units else 0 end
                        as {{ rating_decimal() }}
                    ) as new_allotment,
                    cast(
                        case
                            when step.is_term_start then step.pool_units else step.term_left_in
                        end as {{ rating_decimal() }}
                    ) as allotment_in
                from ({{ step_query }}) as step
            ) as bought
        ) as drawn
    ) as burned
{%- endmacro %}

{% macro spark__prepaid_pool_replay(component_units, pool_state=none) -%}
{%- if pool_state is not none %}
    {{ exceptions.raise_compiler_error(
        "prepaid_pool_replay resumes from a pool state on DuckDB only (shadow billing is a table"
        ~ " rebuilt whole on Spark)"
    ) }}
{%- endif %}
pool_periods as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        units,
        pool_units,
        cast(pool_units * rollover_pct * 0.01 as {{ rating_decimal() }}) as rollover_cap,
        greatest(rollover_periods, 0) as rollover_periods,
        term_periods,
        -- terms run from the account's first rated period: periods 1..n, n+1..2n, ...
        (period_number - 1) % term_periods = 0 as is_term_start,
        period_number % term_periods = 0 as is_term_end,
        period_number
    from (
        select
            *,
            greatest(pool_term_periods, 1) as term_periods,
            row_number() over (
                partition by account_id, price_model_id, component_id
                order by period
            ) as period_number
        from {{ component_units }}
        where charge_model = 'prepaid_pool'
    ) as numbered
),

pool_replayed as (
    {{ _spark_pool_step(
        "select
            pool_periods.*,
            array_repeat(
                cast(0 as " ~ rating_decimal() ~ "), cast(pool_periods.rollover_periods as int)
            ) as carry_in,
            cast(0 as " ~ rating_decimal() ~ ") as term_left_in,
            cast(0 as " ~ rating_decimal() ~ ") as term_used_in,
            cast(0 as " ~ rating_decimal() ~ ") as term_available_in
        from pool_periods
        where pool_periods.period_number = 1"
    ) }}
    union all
    {{ _spark_pool_step(
        "select
            pool_periods.*,
            pool_replayed.carry_out as carry_in,
            pool_replayed.term_left_out as term_left_in,
            pool_replayed.term_used as term_used_in,
            pool_replayed.term_available as term_available_in
        from pool_replayed
        inner join pool_periods
            on pool_replayed.account_id = pool_periods.account_id
                and pool_replayed.price_model_id = pool_periods.price_model_id
                and pool_replayed.component_id = pool_periods.component_id
                and pool_periods.period_number = pool_replayed.period_number + 1"
    ) }}
)
{%- endmacro %}
