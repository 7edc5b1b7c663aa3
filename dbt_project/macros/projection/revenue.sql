{#- The projected usage rated by the rating engine and summed to revenue by segment, with the
    probability that each account is still a customer. -#}


{#- The projection engine: the rated projected account-months (`rated_projection`, the rating
    engine's lines over usage_grown's projection keys under every model; `rated_backtest`, over
    the backtest keys under the models it compares, the current) become each account's bill k
    months ahead: its bill at the origin plus what the rating adds or removes from there,
        revenue_k = greatest(base_usd + rated_k - rated_0, least(base_usd, 0))
    so month 0 is exactly the real (current model) or shadow (proposal) bill, and nothing moves
    when nothing grows; months between rated ones are interpolated, geometrically (exact for a bill
    proportional to usage), linearly where either is 0. It counts with the probability that the
    account is still a customer:
        survival_k = (1 - monthly churn)^k x (1 - projection_shock_churn if shocked at the switch
                     and k >= 1)
    and is summed by segment: one row per origin x segment x model x rate set x months ahead.
    Beside it, the projection under customer choice (docs block projection_choice_revenue): offered
    a proposal beside the current model, the accounts of `bases` that would take it
    (is_choosing_proposal) are projected under it, the others under the current model, each with
    the survival of the model it is on:
        choice = sum of current_k over the base + sum over the choosers of (proposal_k - current_k)
    a join of the choosers' rows to their own current-model rows, one to one. -#}
{% macro projection_revenue_by_segment(
    usage_grown, rated_projection, rated_backtest, bases, origins, as_parameters=false,
    weighted=false
) -%}
{%- set shock_churn = projection_assumption('projection_shock_churn', as_parameters) -%}
{#- weighted: each row of `bases` (an account under a model) carries sample_weight, the accounts
    of its stratum it stands for in the edit sample (fct_projection_edit_sample; 0 under a model
    it was not drawn for), and every sum and count over accounts counts the row that many times,
    a chooser's change by its weight under the proposal: the sample's estimate of the whole
    base. -#}
{%- set weight = 'projection_bases.sample_weight' if weighted else '1' -%}
projection_months as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series((projection_longest_horizon() | int) + 1) }}) as month_offsets
),

projection_rated_by_key as (
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from {{ rated_projection }}
    group by account_id, price_model_id
    union all
    select
        account_id as rating_key,
        price_model_id,
        sum({{ round_half_up_to_cents('amount') }}) as rated_usd
    from {{ rated_backtest }}
    group by account_id, price_model_id
),

projection_rated_keys as (
    select distinct
        rating_key,
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate,
        months_ahead
    from {{ usage_grown }}
),

projection_scenario_names as (
    select distinct
        origin_kind,
        scenario
    from projection_rated_keys
),

-- every rated month of an account under a model; month 0 (rated once) stands for every scenario
projection_rated_points as (
    select
        projection_rated_keys.origin_kind,
        projection_rated_keys.account_id,
        projection_rated_by_key.price_model_id,
        projection_scenario_names.scenario,
        projection_rated_keys.months_ahead,
        projection_rated_by_key.rated_usd
    from projection_rated_keys
    inner join projection_rated_by_key
        on projection_rated_keys.rating_key = projection_rated_by_key.rating_key
    inner join projection_scenario_names
        on projection_rated_keys.origin_kind = projection_scenario_names.origin_kind
            and (
                projection_rated_keys.scenario = projection_scenario_names.scenario
                or projection_rated_keys.months_ahead = 0
            )
),

projection_account_scenarios as (
    select distinct
        origin_kind,
        origin_month,
        account_id,
        segment,
        scenario,
        monthly_churn_rate
    from projection_rated_keys
    where months_ahead > 0 or origin_kind = 'backtest'
),

-- for every month of each origin, the rated months on either side of it (the same for everyone)
projection_rated_months as (
    select distinct
        origin_kind,
        months_ahead
    from projection_rated_keys
),

projection_brackets as (
    select
        projection_origins.origin_kind,
        projection_months.months_ahead,
        max(below.months_ahead) as lower_month,
        min(above.months_ahead) as upper_month
    from {{ origins }} as projection_origins
    inner join projection_months
        on projection_origins.horizon_months >= projection_months.months_ahead
    inner join projection_rated_months as below
        on projection_origins.origin_kind = below.origin_kind
            and projection_months.months_ahead >= below.months_ahead
    inner join projection_rated_months as above
        on projection_origins.origin_kind = above.origin_kind
            and projection_months.months_ahead <= above.months_ahead
    group by projection_origins.origin_kind, projection_months.months_ahead
),

-- each rated month of an origin and the rated month after it (the same for every account)
projection_rated_month_pairs as (
    select
        rated.origin_kind,
        rated.months_ahead,
        min(later.months_ahead) as next_month
    from projection_rated_months as rated
    left join projection_rated_months as later
        on rated.origin_kind = later.origin_kind and later.months_ahead > rated.months_ahead
    group by rated.origin_kind, rated.months_ahead
),

-- each rated point with the next rated month's bill and month 0's (the origin) of the same
-- account, model and scenario: two joins over the rated points, where a join per neighbour
-- (lower, upper, origin) over every projected month would cost three times as many rows
projection_rated_spans as (
    select
        points.origin_kind,
        points.account_id,
        points.price_model_id,
        points.scenario,
        points.months_ahead as lower_month,
        points.rated_usd as lower_usd,
        next_points.months_ahead as next_month,
        next_points.rated_usd as next_usd,
        origin_points.rated_usd as origin_usd
    from projection_rated_points as points
    inner join projection_rated_month_pairs as pairs
        on points.origin_kind = pairs.origin_kind and points.months_ahead = pairs.months_ahead
    inner join projection_rated_points as origin_points
        on points.origin_kind = origin_points.origin_kind
            and points.account_id = origin_points.account_id
            and points.price_model_id = origin_points.price_model_id
            and points.scenario = origin_points.scenario
            and origin_points.months_ahead = 0
    left join projection_rated_points as next_points
        on points.origin_kind = next_points.origin_kind
            and points.account_id = next_points.account_id
            and points.price_model_id = next_points.price_model_id
            and points.scenario = next_points.scenario
            and pairs.next_month = next_points.months_ahead
),

-- the rated months are the same for every account of an origin (projection_rated_months), so a
-- span's next rated month is the bracket's upper month; at a rated month both are that month
projection_account_months as (
    select
        projection_account_scenarios.origin_kind,
        projection_account_scenarios.origin_month,
        projection_account_scenarios.account_id,
        projection_account_scenarios.segment,
        projection_account_scenarios.scenario,
        projection_account_scenarios.monthly_churn_rate,
        projection_brackets.months_ahead,
        projection_rated_spans.price_model_id,
        projection_brackets.lower_month,
        projection_brackets.upper_month,
        projection_rated_spans.lower_usd,
        case
            when projection_brackets.upper_month = projection_brackets.lower_month
                then projection_rated_spans.lower_usd
            else projection_rated_spans.next_usd
        end as upper_usd,
        projection_rated_spans.origin_usd
    from projection_account_scenarios
    inner join projection_brackets
        on projection_account_scenarios.origin_kind = projection_brackets.origin_kind
    inner join projection_rated_spans
        on projection_account_scenarios.origin_kind = projection_rated_spans.origin_kind
            and projection_account_scenarios.account_id = projection_rated_spans.account_id
            and projection_account_scenarios.scenario = projection_rated_spans.scenario
            and projection_brackets.lower_month = projection_rated_spans.lower_month
    -- as the joins did: a month whose upper rated month was not rated is not projected
    where projection_brackets.upper_month = projection_brackets.lower_month
        or projection_rated_spans.next_month = projection_brackets.upper_month
),

projection_weighted_months as (
    select
        *,
        case
            when upper_month = lower_month then 0
            else cast(months_ahead - lower_month as double) / (upper_month - lower_month)
        end as interpolation_weight
    from projection_account_months
),

projection_interpolated as (
    select
        *,
        case
            when upper_month = lower_month then lower_usd
            when lower_usd > 0 and upper_usd > 0
                then lower_usd * power(cast(upper_usd as double) / lower_usd, interpolation_weight)
            else lower_usd + (upper_usd - lower_usd) * interpolation_weight
        end as interpolated_usd
    from projection_weighted_months
),

projection_account_revenue as (
    select
        projection_interpolated.origin_kind,
        projection_interpolated.origin_month,
        projection_interpolated.segment,
        projection_interpolated.price_model_id,
        projection_interpolated.scenario,
        projection_interpolated.months_ahead,
        projection_interpolated.account_id,
        -- never below 0, nor below month 0 when the month was a net credit (a proration credit
        -- larger than the charges), so that month 0 is still exactly the bill
        greatest(
            projection_bases.base_usd + projection_interpolated.interpolated_usd
            - projection_interpolated.origin_usd,
            least(projection_bases.base_usd, 0)
        ) as revenue_usd,
        power(1 - projection_interpolated.monthly_churn_rate, projection_interpolated.months_ahead)
        * case
            when projection_bases.is_shocked_at_switch and projection_interpolated.months_ahead >= 1
                then 1 - {{ shock_churn }}
            else 1
        end as survival,
        coalesce(projection_bases.is_current_model, false) as is_current_model,
        coalesce(projection_bases.is_choosing_proposal, false) as is_choosing_proposal,
        coalesce(projection_bases.is_shocked_at_switch, false) as is_shocked_at_switch,
        {{ weight }} as account_weight
    from projection_interpolated
    inner join {{ bases }} as projection_bases
        on projection_interpolated.origin_kind = projection_bases.origin_kind
            and projection_interpolated.account_id = projection_bases.account_id
            and projection_interpolated.price_model_id = projection_bases.price_model_id
),

projection_forced_by_segment as (
    select
        origin_kind,
        origin_month,
        segment,
        price_model_id,
        scenario,
        months_ahead,
        max(case when is_current_model then 1 else 0 end) as is_current_model,
        -- each term as an exact decimal before the sum: a sum of doubles depends on the order
        -- DuckDB's threads add them in, and a refresh with nothing new must give the same rows
        {%- if weighted %}
        sum(cast(account_weight * survival * revenue_usd as decimal(38, 10)))
            as projected_revenue_exact_usd,
        cast(round(sum(cast(account_weight * survival as decimal(38, 12))), 10) as double)
            as projected_accounts,
        sum(account_weight) as base_accounts,
        sum(case when is_shocked_at_switch then
            cast(account_weight * survival * revenue_usd as decimal(38, 10))
        else 0 end) as projected_shocked_usd
        {%- else %}
        sum(cast(survival * revenue_usd as decimal(38, 10))) as projected_revenue_exact_usd,
        cast(round(sum(cast(survival as decimal(38, 12))), 10) as double) as projected_accounts,
        count(*) as base_accounts,
        -- the part of the accounts the switch would shock (the edit estimate moves each part)
        sum(case when is_shocked_at_switch then
            cast(survival * revenue_usd as decimal(38, 10))
        else 0 end) as projected_shocked_usd
        {%- endif %}
    from projection_account_revenue
    group by origin_kind, origin_month, segment, price_model_id, scenario, months_ahead
),

-- what the accounts that would take a proposal add or remove by taking it: their bill and
-- survival under it less theirs under the current model, the same month and scenario (one
-- current-model row per account: the join does not multiply rows). Beside it, the proposal's
-- projection under choice in parts, the accounts that keep the current model (their bill under
-- it) and those that take the proposal (their bill under it), the switch shocking them or not,
-- which the edit estimate moves each by itself (projection_edit_estimate).
projection_choice_changes as (
    select
        choosers.origin_kind,
        choosers.segment,
        choosers.price_model_id,
        choosers.scenario,
        choosers.months_ahead,
        {%- if weighted %}
        sum(case when choosers.is_choosing_proposal then
            cast(choosers.account_weight * choosers.survival * choosers.revenue_usd
                as decimal(38, 10))
            - cast(choosers.account_weight * stayers.survival * stayers.revenue_usd
                as decimal(38, 10))
        end) as choice_change_usd,
        sum(case when choosers.is_choosing_proposal then choosers.account_weight else 0 end)
            as choosing_accounts,
        sum(case when not choosers.is_choosing_proposal then
            cast(choosers.account_weight * stayers.survival * stayers.revenue_usd
                as decimal(38, 10))
        else 0 end) as choice_stayers_usd,
        sum(case when choosers.is_choosing_proposal and not choosers.is_shocked_at_switch then
            cast(choosers.account_weight * choosers.survival * choosers.revenue_usd
                as decimal(38, 10))
        else 0 end) as choice_movers_usd,
        sum(case when choosers.is_choosing_proposal and choosers.is_shocked_at_switch then
            cast(choosers.account_weight * choosers.survival * choosers.revenue_usd
                as decimal(38, 10))
        else 0 end) as choice_shocked_movers_usd
        {%- else %}
        sum(case when choosers.is_choosing_proposal then
            cast(choosers.survival * choosers.revenue_usd as decimal(38, 10))
            - cast(stayers.survival * stayers.revenue_usd as decimal(38, 10))
        end) as choice_change_usd,
        count(case when choosers.is_choosing_proposal then 1 end) as choosing_accounts,
        sum(case when not choosers.is_choosing_proposal then
            cast(stayers.survival * stayers.revenue_usd as decimal(38, 10))
        else 0 end) as choice_stayers_usd,
        sum(case when choosers.is_choosing_proposal and not choosers.is_shocked_at_switch then
            cast(choosers.survival * choosers.revenue_usd as decimal(38, 10))
        else 0 end) as choice_movers_usd,
        sum(case when choosers.is_choosing_proposal and choosers.is_shocked_at_switch then
            cast(choosers.survival * choosers.revenue_usd as decimal(38, 10))
        else 0 end) as choice_shocked_movers_usd
        {%- endif %}
    from projection_account_revenue as choosers
    inner join projection_account_revenue as stayers
        on choosers.origin_kind = stayers.origin_kind
            and choosers.account_id = stayers.account_id
            and choosers.scenario = stayers.scenario
            and choosers.months_ahead = stayers.months_ahead
            and stayers.is_current_model
    where not choosers.is_current_model
    group by
        choosers.origin_kind,
        choosers.segment,
        choosers.price_model_id,
        choosers.scenario,
        choosers.months_ahead
),

projection_by_segment as (
    select
        forced.origin_kind,
        forced.origin_month,
        forced.segment,
        forced.price_model_id,
        forced.scenario,
        forced.months_ahead,
        cast({{ dbt.dateadd('month', 'forced.months_ahead', 'forced.origin_month') }} as date)
            as month,
        -- rounded, so that equal projections (month 0 of every scenario) compare equal
        cast(forced.projected_revenue_exact_usd as decimal(18, 4)) as projected_revenue_usd,
        forced.projected_accounts,
        forced.base_accounts,
        -- the current model under choice is itself; a proposal is the current model's projection
        -- of the segment plus what its choosers change
        cast(
            case
                when forced.is_current_model = 1 then forced.projected_revenue_exact_usd
                else coalesce(current_model.projected_revenue_exact_usd, 0)
                    + coalesce(choice_changes.choice_change_usd, 0)
            end
            as decimal(18, 4)
        ) as projected_choice_revenue_usd,
        coalesce(choice_changes.choosing_accounts, 0) as choosing_accounts,
        -- the projected MRR of the accounts the switch would shock, and of the others
        -- (the second the rounded figure less the first, so that the parts add up to it)
        cast(forced.projected_shocked_usd as decimal(18, 4)) as projected_shocked_usd,
        cast(
            cast(forced.projected_revenue_exact_usd as decimal(18, 4))
            - cast(forced.projected_shocked_usd as decimal(18, 4))
            as decimal(18, 4)
        ) as projected_unshocked_usd,
        -- a proposal's figure under choice in parts (null on the current model's rows): the
        -- accounts that keep the current model, those that take the proposal and it would not
        -- shock, and those it would
        -- (the movers not shocked: the parts' rounded sum less the other two, so that the parts
        -- add up to it; unweighted, that sum is the figure under choice itself)
        cast(choice_changes.choice_stayers_usd as decimal(18, 4)) as projected_choice_stayers_usd,
        cast(
            cast(
                choice_changes.choice_stayers_usd + choice_changes.choice_movers_usd
                + choice_changes.choice_shocked_movers_usd
                as decimal(18, 4)
            )
            - cast(choice_changes.choice_stayers_usd as decimal(18, 4))
            - cast(choice_changes.choice_shocked_movers_usd as decimal(18, 4))
            as decimal(18, 4)
        ) as projected_choice_movers_usd,
        cast(choice_changes.choice_shocked_movers_usd as decimal(18, 4))
            as projected_choice_shocked_movers_usd
    from projection_forced_by_segment as forced
    left join projection_forced_by_segment as current_model
        on forced.origin_kind = current_model.origin_kind
            and forced.segment = current_model.segment
            and forced.scenario = current_model.scenario
            and forced.months_ahead = current_model.months_ahead
            and current_model.is_current_model = 1
    left join projection_choice_changes as choice_changes
        on forced.origin_kind = choice_changes.origin_kind
            and forced.segment = choice_changes.segment
            and forced.price_model_id = choice_changes.price_model_id
            and forced.scenario = choice_changes.scenario
            and forced.months_ahead = choice_changes.months_ahead
)
{%- endmacro %}


{#- What the rating engine rates for an origin: usage_grown's keys as rate_usage's accounts, each a
    month of its own (a relation, in parentheses). -#}
{% macro projection_rating_usage(usage_grown, origin_kind) -%}
(
    select
        rating_key as account_id,
        origin_month as period,
        metric,
        quantity,
        events
    from {{ usage_grown }}
    where origin_kind = '{{ origin_kind }}'
)
{%- endmacro %}


{#- The rated lines of an origin's projected months: the rating engine (rate_usage) over
    projection_rating_usage's keys under `components`, `tiers` and the `models`' own spend caps,
    cut to what projection_revenue_by_segment reads (account_id is the rating key). -#}
{% macro projection_rated_lines(usage_grown, origin_kind, components, tiers, models=none) -%}
projection_rated_lines as (
    select
        account_id,
        period,
        price_model_id,
        component_id,
        amount
    from (
        {{ rate_usage(
            projection_rating_usage(usage_grown, origin_kind), components, tiers, models
        ) | indent(8) }}
    ) as rated
)
{%- endmacro %}
