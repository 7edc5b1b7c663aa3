-- Grain: one row per price model of the price book (price_model_id).
with

models as (select * from {{ ref('price_models') }}),

components as (select * from {{ ref('price_components') }}),

component_counts as (
    select
        price_model_id,
        count(*) as components
    from components
    group by price_model_id
),

final as (
    select
        models.price_model_id,
        models.name,
        models.description,
        models.price_model_id = {{ current_price_model_id() }} as is_current_model,
        -- an empty cell is the default: the proposal replaces the current model
        coalesce(nullif(trim(models.offered_as), ''), 'replacement') as offered_as,
        cast(coalesce(component_counts.components, 0) as {{ dbt.type_bigint() }}) as components,
        models.cap_amount,
        -- a cap without a policy is hard
        case
            when models.cap_amount is not null
                then lower(coalesce(nullif(trim(models.cap_policy), ''), 'hard'))
        end as cap_policy
    from models
    left join component_counts
        on models.price_model_id = component_counts.price_model_id
)

select * from final
