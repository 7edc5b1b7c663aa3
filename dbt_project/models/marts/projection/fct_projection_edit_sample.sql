-- Grain: one row per origin x sampled account x price model (origin_kind, account_id,
-- price_model_id).
-- The edit sample (docs block projection_edit_estimate): the accounts the Projection page
-- re-projects when an assumption is edited, so that an edit costs the same whatever the size of
-- the base. For each origin, segment and model, the base's accounts (int_projection_bases) are
-- grouped by whether the switch would shock them and whether they would choose the proposal, and
-- each group is cut into strata of equal count by the model's bill at the origin (base_usd): at
-- most projection_edit_sample_accounts strata in all, shared among the groups by their size, at
-- least one each. The account of a stratum first by the hash of its id stands for every account
-- of its stratum under that model (sample_weight). The hash is the same under every model, so the
-- strata of different models mostly draw the same accounts, and the sample's accounts are few.
-- A sampled account has a row under every model (the projection rates it under each, and its
-- choice compares two), 0 where it was not drawn. A segment with no more accounts than the
-- strata is sampled whole, each account standing for itself.
{%- set strata = var('projection_edit_sample_accounts') | int %}
with

bases as (select * from {{ ref('int_projection_bases') }}),

accounts as (
    select
        origin_kind,
        origin_month,
        account_id,
        segment,
        price_model_id,
        base_usd,
        coalesce(is_shocked_at_switch, false) as is_shocked_at_switch,
        coalesce(is_choosing_proposal, false) as is_choosing_proposal,
        {{ dbt.hash('account_id') }} as account_hash
    from bases
),

grouped as (
    select
        *,
        count(*) over (partition by origin_kind, segment, price_model_id) as segment_accounts,
        count(*) over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal
        ) as group_accounts,
        row_number() over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal
            order by base_usd, account_id
        ) as group_position
    from accounts
),

-- a group's strata: its share of the segment's, at least one, never more than its accounts
stratified as (
    select
        *,
        floor(
            (group_position - 1) * 1.0 * least(
                greatest(round({{ strata }} * 1.0 * group_accounts / segment_accounts), 1),
                group_accounts
            ) / group_accounts
        ) as stratum
    from grouped
),

picked as (
    select
        *,
        count(*) over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal, stratum
        ) as stratum_accounts,
        row_number() over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal, stratum
            order by account_hash, account_id
        ) as pick
    from stratified
),

sampled_accounts as (
    select distinct
        origin_kind,
        account_id
    from picked
    where pick = 1
),

final as (
    select
        picked.origin_kind || '|' || picked.account_id || '|' || picked.price_model_id
            as projection_edit_sample_id,
        picked.origin_kind,
        picked.origin_month,
        picked.account_id,
        picked.segment,
        picked.price_model_id,
        cast(picked.base_usd as decimal(18, 4)) as base_usd,
        picked.is_shocked_at_switch,
        picked.is_choosing_proposal,
        cast(picked.segment_accounts as {{ dbt.type_bigint() }}) as segment_accounts,
        cast(
            case when picked.pick = 1 then picked.stratum_accounts else 0 end
            as {{ dbt.type_bigint() }}
        ) as sample_weight
    from picked
    inner join sampled_accounts
        on picked.origin_kind = sampled_accounts.origin_kind
            and picked.account_id = sampled_accounts.account_id
)

select * from final
