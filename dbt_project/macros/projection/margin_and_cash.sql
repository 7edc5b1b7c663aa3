{#- The projection's cost to serve, gross margin and cash, beside its MRR. -#}


{#- fct_projection_margin_and_cash's rows: for every row of the revenue projection (`revenue_rows`:
    fct_revenue_projection's, revenue_projection_rows), what serving that base costs and when its
    money arrives.

    Cost (docs block projected_cost): each segment's cost at the origin per model tier
    (`cost_bases`: fct_projection_cost_bases), its input and output tokens grown along the
    segment's path of the row's rate set (projection_growth_paths over `rates`,
    projection_rates_applied's rows), the tier's cost falling by its yearly decline
    (`cost_curve`: model, projection_yearly_decline), counted with the same survival as the
    revenue:
        cost_k = (1 - churn)^k x sum over tiers of (1 - decline)^(k / 12)
                 x (g_in,k x (input - s_k x shocked input) + g_out,k x (output - s_k x shocked output))
    where s_k is projection_shock_churn from month 1 on (0 at month 0) and the shocked parts are
    the costs of the accounts the model would shock at the switch. Month 0 is the base's cost to
    serve at the origin.

    Cash (docs block projected_cash): the origin's mix of when the money arrives (`cash_bases`:
    fct_projection_cash_bases) applied to the projected MRR of the row's rate set, R_k:
        cash_k = R_k / R_0 x (in advance + sum of the terms billed in month k, term x MRR)
                 + R_(k-1) / R_0 x in arrears          (R_(-1) = R_0: the month before the origin)
    so that with no growth and no churn twelve months of cash equal twelve months of MRR.
    Segment `all` sums the segments, as the revenue does. -#}
{% macro projection_margin_and_cash(
    revenue_rows, rates, cost_bases, cost_curve, cash_bases, as_parameters=false
) -%}
{%- set shock_churn = projection_assumption('projection_shock_churn', as_parameters) -%}
projection_months_ahead as (
    select generated_number - 1 as months_ahead
    from ({{ dbt.generate_series((projection_longest_horizon() | int) + 1) }}) as month_offsets
),

{{ projection_growth_paths(rates) }},

margin_segment_rows as (
    select *
    from {{ revenue_rows }}
    where segment <> 'all'
),

margin_churn as (
    select distinct
        segment,
        scenario,
        monthly_churn_rate
    from {{ rates }}
    where origin_kind = 'projection'
),

margin_token_growth as (
    select
        segment,
        scenario,
        months_ahead,
        max(case when metric = 'input_tokens' then growth_factor end) as input_growth,
        max(case when metric = 'output_tokens' then growth_factor end) as output_growth
    from projection_growth_path
    where origin_kind = 'projection' and metric in ('input_tokens', 'output_tokens')
    group by segment, scenario, months_ahead
),

-- each row's cost: its segment, model and rate set (a tier without a token path stays flat); the
-- exponent k / 12 is a double, as Spark's decimal division would keep 6 digits of it
margin_costs as (
    select
        margin_segment_rows.segment,
        margin_segment_rows.price_model_id,
        margin_segment_rows.rate_scenario,
        margin_segment_rows.months_ahead,
        sum(cast(
            power(1 - margin_churn.monthly_churn_rate, margin_segment_rows.months_ahead)
            * power(
                1 - coalesce(margin_cost_curve.projection_yearly_decline, 0),
                cast(margin_segment_rows.months_ahead as double) / 12
            )
            * (
                coalesce(margin_token_growth.input_growth, 1)
                * (
                    cast(margin_cost_bases.input_cost_usd as double)
                    - case when margin_segment_rows.months_ahead >= 1 then {{ shock_churn }} else 0 end
                    * cast(margin_cost_bases.shocked_input_cost_usd as double)
                )
                + coalesce(margin_token_growth.output_growth, 1)
                * (
                    cast(margin_cost_bases.output_cost_usd as double)
                    - case when margin_segment_rows.months_ahead >= 1 then {{ shock_churn }} else 0 end
                    * cast(margin_cost_bases.shocked_output_cost_usd as double)
                )
            )
            as decimal(38, 10)
        )) as projected_cost_usd
    from margin_segment_rows
    inner join {{ cost_bases }} as margin_cost_bases
        on margin_segment_rows.segment = margin_cost_bases.segment
            and margin_segment_rows.price_model_id = margin_cost_bases.price_model_id
    inner join margin_churn
        on margin_segment_rows.segment = margin_churn.segment
            and margin_segment_rows.rate_scenario = margin_churn.scenario
    left join margin_token_growth
        on margin_segment_rows.segment = margin_token_growth.segment
            and margin_segment_rows.rate_scenario = margin_token_growth.scenario
            and margin_segment_rows.months_ahead = margin_token_growth.months_ahead
    left join {{ cost_curve }} as margin_cost_curve
        on margin_cost_bases.model = margin_cost_curve.model
    group by
        margin_segment_rows.segment,
        margin_segment_rows.price_model_id,
        margin_segment_rows.rate_scenario,
        margin_segment_rows.months_ahead
),

margin_cash_mix as (
    select
        segment,
        price_model_id,
        sum(case when cash_timing = 'in_advance' then mrr_usd else 0 end) as in_advance_usd,
        sum(case when cash_timing = 'in_arrears' then mrr_usd else 0 end) as in_arrears_usd
    from {{ cash_bases }}
    group by segment, price_model_id
),

-- the terms billed in each projected month: term_months x their MRR
margin_terms_billed as (
    select
        margin_segment_rows.segment,
        margin_segment_rows.price_model_id,
        margin_segment_rows.rate_scenario,
        margin_segment_rows.months_ahead,
        sum(margin_cash_bases.term_months * margin_cash_bases.mrr_usd) as term_billed_usd
    from margin_segment_rows
    inner join {{ cash_bases }} as margin_cash_bases
        on margin_segment_rows.segment = margin_cash_bases.segment
            and margin_segment_rows.price_model_id = margin_cash_bases.price_model_id
            and margin_cash_bases.cash_timing = 'term'
            and margin_segment_rows.months_ahead >= margin_cash_bases.months_to_billing
            and mod(
                margin_segment_rows.months_ahead - margin_cash_bases.months_to_billing,
                margin_cash_bases.term_months
            ) = 0
    group by
        margin_segment_rows.segment,
        margin_segment_rows.price_model_id,
        margin_segment_rows.rate_scenario,
        margin_segment_rows.months_ahead
),

margin_segment_months as (
    select
        rows_k.segment,
        rows_k.price_model_id,
        rows_k.scenario,
        rows_k.rate_scenario,
        rows_k.months_ahead,
        rows_k.month,
        rows_k.as_of_month,
        rows_k.is_current_model,
        rows_k.projected_revenue_usd,
        coalesce(margin_costs.projected_cost_usd, 0) as projected_cost_usd,
        -- the mix scaled by the rate set's own path: R_k / R_0 and R_(k-1) / R_0
        cast(
            coalesce(
                cast(rows_k.projected_revenue_usd as double)
                / nullif(cast(rows_0.projected_revenue_usd as double), 0)
                * (
                    coalesce(cast(margin_cash_mix.in_advance_usd as double), 0)
                    + coalesce(cast(margin_terms_billed.term_billed_usd as double), 0)
                )
                + cast(coalesce(rows_previous.projected_revenue_usd, rows_0.projected_revenue_usd) as double)
                / nullif(cast(rows_0.projected_revenue_usd as double), 0)
                * coalesce(cast(margin_cash_mix.in_arrears_usd as double), 0),
                0
            )
            as decimal(38, 10)
        ) as projected_cash_usd
    from margin_segment_rows as rows_k
    inner join margin_segment_rows as rows_0
        on rows_k.segment = rows_0.segment
            and rows_k.price_model_id = rows_0.price_model_id
            and rows_k.rate_scenario = rows_0.rate_scenario
            and rows_0.months_ahead = 0
    left join margin_segment_rows as rows_previous
        on rows_k.segment = rows_previous.segment
            and rows_k.price_model_id = rows_previous.price_model_id
            and rows_k.rate_scenario = rows_previous.rate_scenario
            and rows_previous.months_ahead = rows_k.months_ahead - 1
    left join margin_costs
        on rows_k.segment = margin_costs.segment
            and rows_k.price_model_id = margin_costs.price_model_id
            and rows_k.rate_scenario = margin_costs.rate_scenario
            and rows_k.months_ahead = margin_costs.months_ahead
    left join margin_cash_mix
        on rows_k.segment = margin_cash_mix.segment
            and rows_k.price_model_id = margin_cash_mix.price_model_id
    left join margin_terms_billed
        on rows_k.segment = margin_terms_billed.segment
            and rows_k.price_model_id = margin_terms_billed.price_model_id
            and rows_k.rate_scenario = margin_terms_billed.rate_scenario
            and rows_k.months_ahead = margin_terms_billed.months_ahead
),

margin_with_all as (
    select
        segment,
        price_model_id,
        scenario,
        months_ahead,
        month,
        as_of_month,
        is_current_model,
        projected_revenue_usd,
        projected_cost_usd,
        projected_cash_usd
    from margin_segment_months
    union all
    select
        'all' as segment,
        price_model_id,
        scenario,
        months_ahead,
        month,
        as_of_month,
        is_current_model,
        sum(cast(projected_revenue_usd as decimal(38, 10))) as projected_revenue_usd,
        sum(projected_cost_usd) as projected_cost_usd,
        sum(projected_cash_usd) as projected_cash_usd
    from margin_segment_months
    group by price_model_id, scenario, months_ahead, month, as_of_month, is_current_model
),

projection_margin_and_cash_rows as (
    select
        segment || '|' || price_model_id || '|' || scenario || '|'
        || cast(months_ahead as {{ dbt.type_string() }}) as projection_margin_id,
        segment,
        price_model_id,
        scenario,
        cast(months_ahead as integer) as months_ahead,
        month,
        as_of_month,
        is_current_model,
        cast(projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(projected_cost_usd as decimal(18, 4)) as projected_cost_usd,
        cast(projected_revenue_usd - projected_cost_usd as decimal(18, 4)) as projected_margin_usd,
        round(
            cast(projected_revenue_usd - projected_cost_usd as double)
            / nullif(cast(projected_revenue_usd as double), 0),
            10
        ) as gross_margin_pct,
        cast(projected_cash_usd as decimal(18, 4)) as projected_cash_usd
    from margin_with_all
)
{%- endmacro %}
