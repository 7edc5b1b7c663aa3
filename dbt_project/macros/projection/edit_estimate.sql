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
