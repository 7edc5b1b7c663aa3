-- Grain: one row per origin x sampled account x price model (origin_kind, account_id,
-- price_model_id).
-- The edit sample (docs block projection_edit_estimate): the accounts the Projection page
-- re-projects when an assumption is edited, so that an edit costs the same whatever the size of
-- the base. For each origin, segment and model, the base's accounts (int_projection_bases) are
-- grouped by whether the switch would shock them and whether they would choose the proposal, and
-- each group, in the order of the model's bill at the origin before its spend caps (a capped bill
-- says nothing of the usage behind it), is cut into strata that each hold an equal share of half
-- its accounts and half its bill (so the few accounts that bill the most are strata of their
-- own): at most projection_edit_sample_accounts strata in all, shared among the groups by their
-- count, at least one each. The account of a stratum first by the hash of its id stands for every
-- account of its stratum under that model (sample_weight). The hash is the same under every
-- model, so the strata of different models mostly draw the same accounts, and the sample's
-- accounts are few. A sampled account has a row under every model (the projection rates it under
-- each, and its choice compares two), 0 where it was not drawn. A segment with no more accounts
-- than the strata is sampled whole, each account standing for itself.
{%- set strata = var('projection_edit_sample_accounts') | int %}
with

bases as (select * from {{ ref('int_projection_bases') }}),

-- a proposal's bill before its spend caps: capped bills are alike, the usage behind them is not
shadow_invoices as (select * from {{ ref('fct_shadow_invoice') }}),

accounts as (
    select
        bases.origin_kind,
        bases.origin_month,
        bases.account_id,
        bases.segment,
        bases.price_model_id,
        bases.base_usd,
        case
            when bases.is_current_model then bases.base_usd
            else coalesce(shadow_invoices.shadow_uncapped_usd, bases.base_usd)
        end as stratum_usd,
        coalesce(bases.is_shocked_at_switch, false) as is_shocked_at_switch,
        coalesce(bases.is_choosing_proposal, false) as is_choosing_proposal,
        {{ dbt.hash('bases.account_id') }} as account_hash
    from bases
    left join shadow_invoices
        on bases.account_id = shadow_invoices.account_id
            and bases.origin_month = shadow_invoices.month
            and bases.price_model_id = shadow_invoices.price_model_id
),

-- each account's size in the strata: its bill in cents (the model's bill at the origin before
-- spend caps, as a whole number, so that the sums are exact on every engine) times the group's
-- count, plus the group's total bill; so a stratum holds an equal share of half the count and
-- half the bill, and an account that bills a large share of its group stands alone, for itself
sized as (
    select
        *,
        cast(round(abs(stratum_usd) * 100) as {{ dbt.type_bigint() }}) as bill_cents
    from accounts
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
        sum(bill_cents) over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal
        ) as group_cents,
        row_number() over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal
            order by stratum_usd, account_id
        ) as group_position
    from sized
),

-- a group's strata: its share of the segment's accounts (rounded half up), at least one, never
-- more than its accounts
allotted as (
    select
        *,
        least(
            greatest(
                floor(
                    cast(2 * {{ strata }} * group_accounts + segment_accounts as double)
                    / (2 * segment_accounts)
                ),
                1
            ),
            group_accounts
        ) as group_strata
    from grouped
),

-- the sizes before each account in the group's order: the stratum it starts in
cumulated as (
    select
        *,
        coalesce(sum(bill_cents * group_accounts + group_cents) over (
            partition by
                origin_kind, segment, price_model_id, is_shocked_at_switch,
                is_choosing_proposal
            order by stratum_usd, account_id
            rows between unbounded preceding and 1 preceding
        ), 0) as size_before,
        2 * group_accounts * group_cents as group_size
    from allotted
),

stratified as (
    select
        *,
        cast(
            case
                -- as many strata as accounts: each account is a stratum of its own
                when group_strata >= group_accounts then group_position - 1
                when group_size > 0
                    then floor(cast(group_strata * size_before as double) / group_size)
                else floor(cast((group_position - 1) * group_strata as double) / group_accounts)
            end
            as {{ dbt.type_bigint() }}
        ) as stratum
    from cumulated
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
