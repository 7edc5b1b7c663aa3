-- Grain: one row per price model x segment x capped line (price_model_id, segment,
-- component_id); segment `all` for the portfolio. Only models with a spend cap have rows.
-- What each spend cap did over the rated months: the account-months it was passed in, the
-- revenue a hard cap gave up and the usage it blocked, in the line's own units.
with

lines as (select * from {{ ref('fct_shadow_invoice_lines') }}),

accounts as (select * from {{ ref('dim_accounts') }}),

components as (select * from {{ ref('price_components') }}),

models as (select * from {{ ref('price_models') }}),

-- The capped lines of the book: components with a cap, and each capped model's own line.
capped_lines as (
    select
        price_model_id,
        component_id,
        lower(coalesce(cap_policy, 'hard')) as cap_policy,
        cap_amount
    from components
    where cap_amount is not null
    union all
    select
        price_model_id,
        'model_cap' as component_id,
        lower(coalesce(cap_policy, 'hard')) as cap_policy,
        cap_amount
    from models
    where cap_amount is not null
),

per_line as (
    select
        lines.price_model_id,
        accounts.segment,
        lines.component_id,
        lines.account_id,
        lines.metric,
        lines.is_over_cap,
        lines.capped_amount_usd,
        lines.blocked_units,
        capped_lines.cap_policy,
        capped_lines.cap_amount
    from lines
    inner join capped_lines
        on lines.price_model_id = capped_lines.price_model_id
            and lines.component_id = capped_lines.component_id
    inner join accounts
        on lines.account_id = accounts.account_id
),

segmented as (
    select * from per_line
    union all
    select
        price_model_id,
        'all' as segment,
        component_id,
        account_id,
        metric,
        is_over_cap,
        capped_amount_usd,
        blocked_units,
        cap_policy,
        cap_amount
    from per_line
),

final as (
    select
        price_model_id,
        segment,
        component_id,
        max(case when component_id = 'model_cap' then null else metric end) as metric,
        max(cap_policy) as cap_policy,
        cast(max(cap_amount) as decimal(18, 4)) as cap_amount_usd,
        cast(count(*) as {{ dbt.type_bigint() }}) as account_months,
        cast(sum(case when is_over_cap then 1 else 0 end) as {{ dbt.type_bigint() }})
            as over_cap_account_months,
        cast(count(distinct case when is_over_cap then account_id end) as {{ dbt.type_bigint() }})
            as over_cap_accounts,
        cast(sum(capped_amount_usd) as decimal(18, 4)) as revenue_given_up_usd,
        cast(sum(blocked_units) as decimal(38, 12)) as blocked_units
    from segmented
    group by price_model_id, segment, component_id
)

select * from final
