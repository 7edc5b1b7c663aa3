{#- The edit estimate (docs block projection_edit_estimate): how an edit on the Projection page
    moves the projection without re-projecting every account. `sampled` is
    projection_revenue_by_segment(weighted=true) over the edit sample under the edited
    assumptions; `anchors` (fct_projection_edit_anchors) holds, for every row of the build's
    projection by segment, the build's exact figures and the same sample's figures under the
    assumptions in force. Each figure an assumption moves (the projected MRR in two parts, the
    accounts the switch would shock and the others; the projected accounts; and a proposal's MRR
    under choice in three parts, the accounts that keep the current model and those that take
    the proposal, shocked by it or not) is the build's, moved by what the edit moved the sample's, scaled by the build's
    figure over the sample's:
        estimate = exact + (sampled_edited - sampled_in_force) x exact / sampled_in_force
    (the shift alone where the sample's figure is 0; the sample's own figure where the sample is
    the whole segment). A figure in parts is the sum of its parts moved, so that an edit of the
    churn or the shock churn, which moves every account of a part alike, moves the build's figure
    exactly. The parts add up to the build's figure to the last decimal (one of them is the
    figure less the others). The current model's MRR under choice is its projected MRR. With the assumptions in force every shift is
    0 and the estimate is the build's figure; where the sample is the whole segment it is the
    exact re-projection. The base's and the choosers' counts are the build's: no assumption moves
    them. One row per row of `anchors`, the columns of projection_revenue_by_segment's
    projection_by_segment. -#}
{% macro projection_edit_estimate(anchors, sampled) -%}
projection_edit_estimated as (
    select
        anchors.origin_kind,
        anchors.origin_month,
        anchors.segment,
        anchors.price_model_id,
        anchors.scenario,
        anchors.months_ahead,
        anchors.month,
        cast({{ projection_edit_forced() }} as decimal(18, 4)) as projected_revenue_usd,
        cast({{ projection_edit_moved('projected_accounts') }} as double) as projected_accounts,
        anchors.base_accounts,
        cast(
            case
                when anchors.price_model_id = {{ current_price_model_id() }}
                    then {{ projection_edit_forced() }}
                when anchors.projected_choice_stayers_usd is null
                    then anchors.projected_choice_revenue_usd
                else {{ projection_edit_moved('projected_choice_stayers_usd') }}
                    + {{ projection_edit_moved('projected_choice_movers_usd') }}
                    + {{ projection_edit_moved('projected_choice_shocked_movers_usd') }}
            end
            as decimal(18, 4)
        ) as projected_choice_revenue_usd,
        anchors.choosing_accounts
    from {{ anchors }} as anchors
    left join {{ sampled }} as sampled
        on anchors.origin_kind = sampled.origin_kind
            and anchors.segment = sampled.segment
            and anchors.price_model_id = sampled.price_model_id
            and anchors.scenario = sampled.scenario
            and anchors.months_ahead = sampled.months_ahead
)
{%- endmacro %}


{#- One figure of projection_edit_estimate, inside its select (anchors and sampled joined): the
    build's, moved by the sample's shift, scaled by the build's figure over the sample's. -#}
{% macro projection_edit_moved(column) -%}
case
    when sampled.{{ column }} is null or anchors.{{ column }} is null
        then anchors.{{ column }}
    -- the sample is the whole segment: its figure is the exact re-projection's
    when anchors.sample_{{ column }} = anchors.{{ column }} then sampled.{{ column }}
    when anchors.sample_{{ column }} = 0
        then anchors.{{ column }} + (sampled.{{ column }} - anchors.sample_{{ column }})
    else anchors.{{ column }} + cast(
        cast(sampled.{{ column }} - anchors.sample_{{ column }} as double)
        * cast(anchors.{{ column }} as double) / cast(anchors.sample_{{ column }} as double)
        as decimal(38, 10)
    )
end
{%- endmacro %}


{#- The projected MRR of projection_edit_estimate: its part of the accounts the switch would shock
    and its part of the others, each moved (with the assumptions in force they add up to the
    build's figure). -#}
{% macro projection_edit_forced() -%}
(
    {{ projection_edit_moved('projected_shocked_usd') }}
    + {{ projection_edit_moved('projected_unshocked_usd') }}
)
{%- endmacro %}


{#- Which projected rating keys of the edit sample the rating engine rates under which model
    (rate_usage's account_models): a sampled account under each model it was drawn for
    (sample_weight > 0), and under the current model whatever it was drawn for, since a chooser's
    change under choice is its bill under the proposal less its own bill under the current model.
    The figures weighted by sample_weight count an account under any other model 0 times, so
    rating it there changes no figure and cost about a third of an edit. -#}
{% macro projection_edit_account_models(usage_grown, bases, price_models) -%}
(
    select distinct
        usage_grown.rating_key as account_id,
        bases.price_model_id
    from {{ usage_grown }} as usage_grown
    inner join {{ bases }} as bases
        on usage_grown.origin_kind = bases.origin_kind
            and usage_grown.account_id = bases.account_id
    inner join {{ price_models }} as price_models
        on bases.price_model_id = price_models.price_model_id
    where usage_grown.origin_kind = 'projection'
        and (bases.sample_weight > 0 or price_models.is_current_model)
)
{%- endmacro %}


{#- The growth multipliers at which the build rates the edit sample in advance
    (fct_projection_edit_growth_grid): projection_edit_growth_grid and the multiplier in force,
    in ascending order, each once. -#}
{% macro projection_edit_growth_grid() -%}
{%- set values = [] -%}
{%- for value in var('projection_edit_growth_grid') | list + [var('projection_growth_multiplier')] -%}
    {%- if (value | float) not in values -%}{%- do values.append(value | float) -%}{%- endif -%}
{%- endfor -%}
{{ return(values | sort) }}
{%- endmacro %}


{#- What a rated line's amount moves with, per rating key of `usage` (rating_key, metric,
    quantity) and component of `components` (a price book's rows): the quantity of the metric it
    prices beyond what the line includes (its free units, per period or per unit of another metric,
    and a prepaid pool's units, each x unit_size), never below 0. Between the kinks of its price
    (a tier's bound, a cap) a line's amount is linear in it. A double: it only positions a line
    between two bills. One row per rating key x price model x component whose metric the key
    has. -#}
{% macro projection_edit_line_drivers(usage, components) -%}
(
    select
        usage_rows.rating_key,
        components_typed.price_model_id,
        components_typed.component_id,
        greatest(
            cast(usage_rows.quantity as double) - coalesce(components_typed.unit_size, 1) * (
                coalesce(components_typed.free_units, 0) * case
                    when components_typed.free_units_per_metric is null
                        or components_typed.free_units_per_metric = 'platform' then 1
                    else coalesce(cast(allowance_rows.quantity as double), 0)
                end
                + case
                    when components_typed.charge_model = 'prepaid_pool'
                        then coalesce(components_typed.pool_units, 0)
                    else 0
                end
            ),
            0
        ) as driver
    from (
        select
            {{ price_book_text('price_model_id') }} as price_model_id,
            {{ price_book_text('component_id') }} as component_id,
            {{ price_book_text('metric') }} as metric,
            lower({{ price_book_text('charge_model') }}) as charge_model,
            cast({{ price_book_number('free_units') }} as double) as free_units,
            cast({{ price_book_number('unit_size') }} as double) as unit_size,
            cast({{ price_book_number('pool_units') }} as double) as pool_units,
            {{ price_book_text('free_units_per_metric') }} as free_units_per_metric
        from {{ components }}
    ) as components_typed
    inner join {{ usage }} as usage_rows
        on components_typed.metric = usage_rows.metric
    left join {{ usage }} as allowance_rows
        on usage_rows.rating_key = allowance_rows.rating_key
            and components_typed.free_units_per_metric = allowance_rows.metric
)
{%- endmacro %}


{#- The edit sample's rated lines at growth multiplier $growth from the build's growth grid
    (`grid`: fct_projection_edit_growth_grid's rows) and the sample's quantities grown at $growth
    (`usage_grown`), for the page's re-projection; $lower and $upper are the grid's multipliers
    on either side of $growth (the same one where it is on the grid) and $share how far it lies
    between them. Each line moves from its bill at $lower to its bill at $upper as far as its
    driver (projection_edit_line_drivers) moved between its values there, within 0..1; exact at a
    multiplier of the grid and between two wherever no kink of the price book lies between the
    line's two drivers. A model's spend cap (`models`: price_model_id, cap_amount, cap_policy)
    holds the rest of the bill so moved at the cap, as the rating engine does; any other line of
    no metric moves as far as the rest of its bill, a line whose driver did not move by $share. Columns as the rating engine's lines the
    projection reads: origin_kind, account_id (the rating key), price_model_id, amount. -#}
{% macro projection_edit_grid_lines(grid, usage_grown, components, models) -%}
with

grid_lower as (
    select * from {{ grid }} where growth_multiplier = $lower
),

grid_upper as (
    select * from {{ grid }} where growth_multiplier = $upper
),

-- every multiplier of the grid rates the same lines, numbered alike (line_id)
grid_paired as (
    select
        grid_lower.origin_kind,
        grid_lower.rating_key,
        grid_lower.price_model_id,
        grid_lower.component_id,
        grid_lower.rated_usd as lower_usd,
        grid_upper.rated_usd as upper_usd,
        grid_lower.driver as lower_driver,
        grid_upper.driver as upper_driver
    from grid_lower
    inner join grid_upper
        on grid_lower.line_id = grid_upper.line_id
),

edited_drivers as {{ projection_edit_line_drivers(usage_grown, components) }},

grid_positioned as (
    select
        grid_paired.*,
        case
            when grid_paired.lower_usd = grid_paired.upper_usd then 0
            when grid_paired.lower_driver is null and grid_paired.upper_driver is null then null
            when edited_drivers.driver is null
                or grid_paired.upper_driver = grid_paired.lower_driver
                then $share
            else least(greatest(
                (edited_drivers.driver - grid_paired.lower_driver)
                / (grid_paired.upper_driver - grid_paired.lower_driver),
                0
            ), 1)
        end as position
    from grid_paired
    left join edited_drivers
        on grid_paired.rating_key = edited_drivers.rating_key
            and grid_paired.price_model_id = edited_drivers.price_model_id
            and grid_paired.component_id = edited_drivers.component_id
),

grid_bills as (
    select
        rating_key,
        price_model_id,
        sum(lower_usd) as lower_usd,
        sum(upper_usd) as upper_usd,
        sum(lower_usd + (upper_usd - lower_usd) * position) as edited_usd
    from grid_positioned
    where position is not null
    group by rating_key, price_model_id
),

grid_model_caps as (
    select
        {{ price_book_text('price_model_id') }} as price_model_id,
        cast({{ price_book_number('cap_amount') }} as double) as cap_amount,
        coalesce(lower({{ price_book_text('cap_policy') }}), 'hard') as cap_policy
    from {{ models }}
)

select
    grid_positioned.origin_kind,
    grid_positioned.rating_key as account_id,
    grid_positioned.price_model_id,
    cast(
        case
            when $share = 0 then grid_positioned.lower_usd
            when grid_positioned.component_id = 'model_cap' and grid_positioned.position is null
                then case
                    when grid_model_caps.cap_policy = 'hard'
                        and grid_bills.edited_usd > grid_model_caps.cap_amount
                        then grid_model_caps.cap_amount - grid_bills.edited_usd
                    else 0
                end
            else grid_positioned.lower_usd
                + (grid_positioned.upper_usd - grid_positioned.lower_usd) * coalesce(
                    grid_positioned.position,
                    case
                        when grid_bills.rating_key is null
                            or grid_bills.upper_usd = grid_bills.lower_usd then $share
                        else least(greatest(
                            (grid_bills.edited_usd - grid_bills.lower_usd)
                            / (grid_bills.upper_usd - grid_bills.lower_usd),
                            0
                        ), 1)
                    end
                )
        end
        as decimal(38, 10)
    ) as amount
from grid_positioned
left join grid_bills
    on grid_positioned.rating_key = grid_bills.rating_key
        and grid_positioned.price_model_id = grid_bills.price_model_id
left join grid_model_caps
    on grid_positioned.price_model_id = grid_model_caps.price_model_id
{%- endmacro %}
