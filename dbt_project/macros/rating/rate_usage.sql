{#- The rating engine of docs/price-book.md, written once.

    rate_usage(usage, components, tiers, models) is a whole query over four relations:
      usage:      account_id, period (date), metric, quantity, events
      components: the columns of price_components.csv (typed seeds or CSV text alike)
      tiers:      the columns of price_tiers.csv
      models:     price_models.csv's price_model_id, cap_amount and cap_policy (optional: without
                  it no model has a spend cap of its own)
      account_models: account_id, price_model_id (optional: without it every account is rated
                  under every model; with it, each account only under the models it names, which
                  the Projection page's edit estimate uses to rate each sampled account under the
                  models it stands for and no other)
      pool_state: account_id, price_model_id, component_id and a prepaid pool's state after the
                  period before the usage's first (its columns pool_period_number,
                  pool_carry_out, pool_closing_units, pool_term_used_units and
                  pool_term_available_units, as a rated line carries them); optional, DuckDB
                  only: with it a pool's replay resumes from that state instead of starting from
                  an empty pool, so shadow billing's incremental runs replay only the months they
                  rebuild (prepaid_pool_replay)
    It returns one row per account-period of the usage x every component of every price model,
    with the exact charge (`amount`, no intermediate rounding) and, for `prepaid_pool`, the pool's
    balances, breakage and usage alerts, and the state its replay carries into the next period;
    plus, for each model with a spend cap, one `model_cap`
    line per account-period (the cap's adjustment of the invoice total, in cents).

    Spend caps come after the minimum. A component's `hard` cap bills at most the cap, and its line
    reports the uncapped charge, what the cap gave up (`capped_amount`) and the units beyond the
    point where the charge reached the cap (`blocked_units`: exact on the charge curve of
    `standard`, `package`, `graduated`, `graduated_percentage` and a pool's overage, pro rata to
    the amount given up for `volume` and `percentage`). A `soft` cap bills in full and reports
    `is_over_cap`. A model's cap applies the same rule to the sum of its lines rounded to cents, as
    the invoice adds them, so a hard-capped invoice totals exactly the cap.

    Shadow billing calls it from dbt over the account-month metrics; rpt_rating_sql publishes the
    same text compiled over placeholder relations, which `seatshift rate` and the dashboard's what-if
    run in DuckDB: one implementation, three callers. -#}
{% macro rate_usage(
    usage, components, tiers, models=none, account_models=none, pool_state=none
) -%}
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
        -- a pool is bought once per term of this many periods (default: every period)
        cast(coalesce({{ price_book_number('pool_term_periods') }}, 1) as integer)
            as pool_term_periods,
        {{ price_book_number('minimum_amount') }} as minimum_amount,
        {{ price_book_number('cap_amount') }} as cap_amount,
        -- a cap without a policy stops the bill: `hard` is the default
        coalesce(lower({{ price_book_text('cap_policy') }}), 'hard') as cap_policy
    from {{ components }}
),

model_caps as (
    {%- if models is none %}
    select
        cast(null as {{ dbt.type_string() }}) as price_model_id,
        cast(null as {{ rating_decimal() }}) as cap_amount,
        cast(null as {{ dbt.type_string() }}) as cap_policy
    where 1 = 0
    {%- else %}
    select
        {{ price_book_text('price_model_id') }} as price_model_id,
        {{ price_book_number('cap_amount') }} as cap_amount,
        coalesce(lower({{ price_book_text('cap_policy') }}), 'hard') as cap_policy
    from {{ models }}
    where {{ price_book_number('cap_amount') }} is not null
    {%- endif %}
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

-- Where a capped graduated component's charge reaches its cap: in the first tier whose charge
-- range ends at or above the cap, the tier's start plus the cap's remainder at the tier's price;
-- at the tier's start when entering it (its flat amount) already passes the cap.
graduated_cap_tiers as (
    select
        components_typed.price_model_id,
        components_typed.component_id,
        components_typed.cap_amount,
        tiers_bounded.tier,
        tiers_bounded.up_to,
        tiers_bounded.previous_up_to,
        tiers_bounded.flat_amount,
        case
            when components_typed.charge_model = 'graduated_percentage'
                then tiers_bounded.rate_pct * 0.01
            else tiers_bounded.per_unit_amount
        end as unit_price
    from components_typed
    inner join tiers_bounded
        on components_typed.price_model_id = tiers_bounded.price_model_id
            and components_typed.component_id = tiers_bounded.component_id
    where components_typed.charge_model in ('graduated', 'graduated_percentage')
        and components_typed.cap_amount is not null
),

graduated_cap_ranges as (
    select
        *,
        -- the charge of every tier before this one, filled to its upper bound
        coalesce(
            sum(
                {{ multiply_exactly('up_to - previous_up_to', 'unit_price') }} + flat_amount
            ) over (
                partition by price_model_id, component_id
                order by tier
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as charge_before
    from graduated_cap_tiers
),

graduated_cap_reach as (
    select
        price_model_id,
        component_id,
        min(
            case
                when charge_before + flat_amount > cap_amount then previous_up_to
                else previous_up_to
                    + {{ divide_exactly('cap_amount - charge_before - flat_amount', 'unit_price') }}
            end
        ) as reach_units
    from graduated_cap_ranges
    where charge_before + flat_amount > cap_amount
        or (
            unit_price > 0
            and (
                up_to is null
                or charge_before + flat_amount
                + {{ multiply_exactly('up_to - previous_up_to', 'unit_price') }} >= cap_amount
            )
        )
    group by price_model_id, component_id
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
    {%- if account_models is none %}
    cross join components_typed
    {%- else %}
    inner join {{ account_models }} as account_models
        on account_periods.account_id = account_models.account_id
    inner join components_typed
        on account_models.price_model_id = components_typed.price_model_id
    {%- endif %}
    left join usage_input as metric_usage
        on account_periods.account_id = metric_usage.account_id
            and account_periods.period = metric_usage.period
            and components_typed.metric = metric_usage.metric
    -- only the metrics an allowance is counted by: the join builds on a few rows, not on all
    left join (
        select * from usage_input
        where metric in (select free_units_per_metric from components_typed)
    ) as free_metric_usage
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

{{ prepaid_pool_replay('component_units', pool_state) }},

-- Each row takes its charge from itself, its tiers or its pool's replay, in a branch per kind,
-- so that only the rows of a tiered or pooled component meet their tiers' charges or the
-- replay (a join of every row with the replay was a third of a whole price book's rating, the
-- replay's size being unknown to the planner).
charged as (
    select
        {{ _charged_columns() }},
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
        end as charge,
        {{ _no_pool_columns() }}
    from component_units
    -- an unknown charge model is charged nothing here (null), as before the branches
    where coalesce(component_units.charge_model, '')
        not in ('graduated', 'graduated_percentage', 'volume', 'prepaid_pool')
    union all
    {{ _charged_from_tiers('graduated_tier_charges', "'graduated', 'graduated_percentage'") }}
    union all
    {{ _charged_from_tiers('volume_tier_charges', "'volume'") }}
    union all
    select
        {{ _charged_columns() }},
        -- the pool's price is billed in its term's first period
        case when pool_replayed.is_term_start then component_units.flat_amount else 0 end
        + {{ multiply_exactly('pool_replayed.overage_units', 'component_units.unit_amount') }}
            as charge,
        pool_replayed.opening_units as pool_opening_units,
        pool_replayed.available_units as pool_available_units,
        pool_replayed.used_units as pool_used_units,
        pool_replayed.overage_units as pool_overage_units,
        pool_replayed.expired_units as pool_expired_units,
        pool_replayed.closing_units as pool_closing_units,
        pool_replayed.alert_pct as pool_alert_pct,
        pool_replayed.period_number as pool_period_number,
        pool_replayed.carry_out as pool_carry_out,
        pool_replayed.term_used as pool_term_used_units,
        pool_replayed.term_available as pool_term_available_units,
        pool_replayed.is_term_start as pool_is_term_start
    from component_units
    left join pool_replayed
        on component_units.account_id = pool_replayed.account_id
            and component_units.period = pool_replayed.period
            and component_units.price_model_id = pool_replayed.price_model_id
            and component_units.component_id = pool_replayed.component_id
    where component_units.charge_model = 'prepaid_pool'
),

minimum_applied as (
    select
        charged.*,
        cast(
            case
                when minimum_amount is not null and charge < minimum_amount then minimum_amount
                else charge
            end as {{ rating_decimal() }}
        ) as uncapped_amount
    from charged
),

components_capped as (
    select
        minimum_applied.account_id,
        minimum_applied.period,
        minimum_applied.price_model_id,
        minimum_applied.component_id,
        minimum_applied.metric,
        minimum_applied.charge_model,
        minimum_applied.quantity,
        minimum_applied.events,
        minimum_applied.units,
        cast(
            case
                when component_caps.cap_policy = 'hard'
                    and minimum_applied.uncapped_amount > component_caps.cap_amount
                    then component_caps.cap_amount
                else minimum_applied.uncapped_amount
            end as {{ rating_decimal() }}
        ) as amount,
        minimum_applied.uncapped_amount,
        cast(
            case
                when component_caps.cap_policy = 'hard'
                    and minimum_applied.uncapped_amount > component_caps.cap_amount
                    then minimum_applied.uncapped_amount - component_caps.cap_amount
                else 0
            end as {{ rating_decimal() }}
        ) as capped_amount,
        cast(
            case
                when component_caps.cap_policy <> 'hard'
                    or not minimum_applied.uncapped_amount > component_caps.cap_amount
                    or component_caps.cap_amount is null
                    then 0
                when minimum_applied.charge_model = 'standard'
                    and component_caps.unit_amount > 0
                    then greatest(
                        minimum_applied.units - minimum_applied.free
                        - {{ divide_exactly('component_caps.cap_amount', 'component_caps.unit_amount') }},
                        0
                    )
                when minimum_applied.charge_model = 'package'
                    then greatest(
                        minimum_applied.units - minimum_applied.free
                        - floor({{ divide_exactly(
                            'component_caps.cap_amount', 'component_caps.package_amount'
                        ) }}) * component_caps.package_size,
                        0
                    )
                when minimum_applied.charge_model in ('graduated', 'graduated_percentage')
                    then greatest(minimum_applied.units - graduated_cap_reach.reach_units, 0)
                when minimum_applied.charge_model = 'prepaid_pool'
                    and component_caps.unit_amount > 0
                    then greatest(
                        minimum_applied.pool_overage_units
                        - {{ divide_exactly(
                            "component_caps.cap_amount - case
                                when minimum_applied.pool_is_term_start
                                    then component_caps.flat_amount
                                else 0
                            end",
                            'component_caps.unit_amount'
                        ) }},
                        0
                    )
                -- volume and percentage: pro rata to the amount the cap gave up
                else {{ divide_exactly(
                    multiply_exactly(
                        'minimum_applied.units',
                        'minimum_applied.uncapped_amount - component_caps.cap_amount'
                    ),
                    'minimum_applied.uncapped_amount'
                ) }}
            end as {{ rating_decimal() }}
        ) as blocked_units,
        coalesce(minimum_applied.uncapped_amount > component_caps.cap_amount, false)
            as is_over_cap,
        minimum_applied.pool_opening_units,
        minimum_applied.pool_available_units,
        minimum_applied.pool_used_units,
        minimum_applied.pool_overage_units,
        minimum_applied.pool_expired_units,
        minimum_applied.pool_closing_units,
        minimum_applied.pool_alert_pct,
        minimum_applied.pool_period_number,
        minimum_applied.pool_carry_out,
        minimum_applied.pool_term_used_units,
        minimum_applied.pool_term_available_units
    from minimum_applied
    inner join components_typed as component_caps
        on minimum_applied.price_model_id = component_caps.price_model_id
            and minimum_applied.component_id = component_caps.component_id
    left join graduated_cap_reach
        on minimum_applied.price_model_id = graduated_cap_reach.price_model_id
            and minimum_applied.component_id = graduated_cap_reach.component_id
),

-- A model's cap judges the invoice's total: the sum of its lines rounded to cents.
model_totals as (
    select
        components_capped.account_id,
        components_capped.period,
        components_capped.price_model_id,
        model_caps.cap_amount,
        model_caps.cap_policy,
        sum({{ round_half_up_to_cents('components_capped.amount') }}) as total_amount
    from components_capped
    inner join model_caps
        on components_capped.price_model_id = model_caps.price_model_id
    group by
        components_capped.account_id,
        components_capped.period,
        components_capped.price_model_id,
        model_caps.cap_amount,
        model_caps.cap_policy
),

model_cap_lines as (
    select
        account_id,
        period,
        price_model_id,
        cast('model_cap' as {{ dbt.type_string() }}) as component_id,
        cast('platform' as {{ dbt.type_string() }}) as metric,
        cast('model_cap' as {{ dbt.type_string() }}) as charge_model,
        cast(0 as {{ rating_decimal() }}) as quantity,
        cast(0 as {{ rating_decimal() }}) as events,
        cast(0 as {{ rating_decimal() }}) as units,
        cast(
            case
                when cap_policy = 'hard' and total_amount > cap_amount
                    then cap_amount - total_amount
                else 0
            end as {{ rating_decimal() }}
        ) as amount,
        cast(0 as {{ rating_decimal() }}) as uncapped_amount,
        cast(
            case
                when cap_policy = 'hard' and total_amount > cap_amount
                    then total_amount - cap_amount
                else 0
            end as {{ rating_decimal() }}
        ) as capped_amount,
        cast(null as {{ rating_decimal() }}) as blocked_units,
        total_amount > cap_amount as is_over_cap,
        {{ _no_pool_columns(term_start=false) }}
    from model_totals
),

rated as (
    select * from components_capped
    union all
    select * from model_cap_lines
)

select * from rated
{%- endmacro %}


{#- The columns of a rated row that every branch of `charged` carries from component_units. -#}
{% macro _charged_columns() -%}
        component_units.account_id,
        component_units.period,
        component_units.price_model_id,
        component_units.component_id,
        component_units.metric,
        component_units.charge_model,
        component_units.quantity,
        component_units.events,
        component_units.units,
        component_units.free,
        component_units.minimum_amount
{%- endmacro %}


{#- A row's pool columns where no pool is replayed (with `term_start`, the flag `charged` carries
    for the pool's price; a rated line has no such column). -#}
{% macro _no_pool_columns(term_start=true) -%}
        cast(null as {{ rating_decimal() }}) as pool_opening_units,
        cast(null as {{ rating_decimal() }}) as pool_available_units,
        cast(null as {{ rating_decimal() }}) as pool_used_units,
        cast(null as {{ rating_decimal() }}) as pool_overage_units,
        cast(null as {{ rating_decimal() }}) as pool_expired_units,
        cast(null as {{ rating_decimal() }}) as pool_closing_units,
        cast(null as integer) as pool_alert_pct,
        cast(null as bigint) as pool_period_number,
        cast(null as {{ rating_decimal_list() }}) as pool_carry_out,
        cast(null as {{ rating_decimal() }}) as pool_term_used_units,
        cast(null as {{ rating_decimal() }}) as pool_term_available_units
        {%- if term_start %},
        cast(null as boolean) as pool_is_term_start
        {%- endif %}
{%- endmacro %}


{#- The rows of the charge models `charge_models` (quoted, comma-separated), each charged what
    `tier_charges` (account_id, period, price_model_id, component_id, amount) holds for it. -#}
{% macro _charged_from_tiers(tier_charges, charge_models) -%}
    select
        {{ _charged_columns() }},
        coalesce({{ tier_charges }}.amount, 0) as charge,
        {{ _no_pool_columns() }}
    from component_units
    left join {{ tier_charges }}
        on component_units.account_id = {{ tier_charges }}.account_id
            and component_units.period = {{ tier_charges }}.period
            and component_units.price_model_id = {{ tier_charges }}.price_model_id
            and component_units.component_id = {{ tier_charges }}.component_id
    where component_units.charge_model in ({{ charge_models }})
{%- endmacro %}
