-- Grain: one row per origin x segment x price model x rate set x months ahead
-- (origin_kind, segment, price_model_id, scenario, months_ahead).
-- What an edit on the Projection page moves the projection from (docs block
-- projection_edit_estimate): each row of the build's projection by segment
-- (int_projected_revenue_aggregated_to_segment, exact, every account) beside the same figures of
-- the edit sample (fct_projection_edit_sample) under the assumptions in force: the projection
-- engine's own SQL (macro projection_revenue_by_segment, weighted by each sampled account's
-- stratum) over the build's rated lines of the sampled accounts. The page re-projects the sample
-- under the edited assumptions and moves the exact figures by the sample's change
-- (macro projection_edit_estimate).
with

origins as (select * from {{ ref('int_projection_origins') }}),

edit_sample as (select * from {{ ref('fct_projection_edit_sample') }}),

exact as (select * from {{ ref('int_projected_revenue_aggregated_to_segment') }}),

sampled_bases as (
    select
        bases.*,
        edit_sample.sample_weight
    from {{ ref('int_projection_bases') }} as bases
    inner join edit_sample
        on bases.origin_kind = edit_sample.origin_kind
            and bases.account_id = edit_sample.account_id
            and bases.price_model_id = edit_sample.price_model_id
),

sampled_accounts as (
    select distinct
        origin_kind,
        account_id
    from edit_sample
),

sampled_usage_grown as (
    select usage_grown.*
    from {{ ref('int_projection_usage_grown') }} as usage_grown
    inner join sampled_accounts
        on usage_grown.origin_kind = sampled_accounts.origin_kind
            and usage_grown.account_id = sampled_accounts.account_id
),

-- the rated lines' account_id is the rating key (origin, account, scenario, months ahead)
sampled_rated_projection as (
    select rated.*
    from {{ ref('int_projection_usage_rated') }} as rated
    where rated.account_id in (select sampled_usage_grown.rating_key from sampled_usage_grown)
),

sampled_rated_backtest as (
    select rated.*
    from {{ ref('int_projection_backtest_usage_rated') }} as rated
    where rated.account_id in (select sampled_usage_grown.rating_key from sampled_usage_grown)
),

{{ projection_revenue_by_segment(
    'sampled_usage_grown', 'sampled_rated_projection', 'sampled_rated_backtest',
    'sampled_bases', 'origins', weighted=true
) }},

final as (
    select
        exact.origin_kind || '|' || exact.segment || '|' || exact.price_model_id || '|'
        || exact.scenario || '|' || cast(exact.months_ahead as {{ dbt.type_string() }})
            as projection_edit_anchor_id,
        exact.origin_kind,
        exact.origin_month,
        exact.segment,
        exact.price_model_id,
        exact.scenario,
        cast(exact.months_ahead as integer) as months_ahead,
        exact.month,
        cast(exact.projected_revenue_usd as decimal(18, 4)) as projected_revenue_usd,
        cast(exact.projected_shocked_usd as decimal(18, 4)) as projected_shocked_usd,
        cast(exact.projected_unshocked_usd as decimal(18, 4)) as projected_unshocked_usd,
        cast(exact.projected_accounts as double) as projected_accounts,
        cast(exact.base_accounts as {{ dbt.type_bigint() }}) as base_accounts,
        cast(exact.projected_choice_revenue_usd as decimal(18, 4))
            as projected_choice_revenue_usd,
        cast(exact.choosing_accounts as {{ dbt.type_bigint() }}) as choosing_accounts,
        cast(exact.projected_choice_stayers_usd as decimal(18, 4))
            as projected_choice_stayers_usd,
        cast(exact.projected_choice_movers_usd as decimal(18, 4)) as projected_choice_movers_usd,
        cast(exact.projected_choice_shocked_movers_usd as decimal(18, 4))
            as projected_choice_shocked_movers_usd,
        cast(coalesce(sampled.projected_revenue_usd, 0) as decimal(18, 4))
            as sample_projected_revenue_usd,
        cast(coalesce(sampled.projected_shocked_usd, 0) as decimal(18, 4))
            as sample_projected_shocked_usd,
        cast(coalesce(sampled.projected_unshocked_usd, 0) as decimal(18, 4))
            as sample_projected_unshocked_usd,
        cast(coalesce(sampled.projected_accounts, 0) as double) as sample_projected_accounts,
        cast(coalesce(sampled.base_accounts, 0) as {{ dbt.type_bigint() }}) as sample_base_accounts,
        cast(coalesce(sampled.projected_choice_revenue_usd, 0) as decimal(18, 4))
            as sample_projected_choice_revenue_usd,
        cast(sampled.projected_choice_stayers_usd as decimal(18, 4))
            as sample_projected_choice_stayers_usd,
        cast(sampled.projected_choice_movers_usd as decimal(18, 4))
            as sample_projected_choice_movers_usd,
        cast(sampled.projected_choice_shocked_movers_usd as decimal(18, 4))
            as sample_projected_choice_shocked_movers_usd
    from exact
    left join projection_by_segment as sampled
        on exact.origin_kind = sampled.origin_kind
            and exact.segment = sampled.segment
            and exact.price_model_id = sampled.price_model_id
            and exact.scenario = sampled.scenario
            and exact.months_ahead = sampled.months_ahead
)

select * from final
