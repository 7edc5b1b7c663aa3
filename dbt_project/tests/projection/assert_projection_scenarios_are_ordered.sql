-- Rule: for every segment, price model and month ahead, worst <= middle <= best,
-- and month 0 is the same in the three scenarios (nothing has happened yet).
-- Exceptions: none.
with

projection as (select * from {{ ref('fct_revenue_projection') }}),

pivoted as (
    select
        segment,
        price_model_id,
        months_ahead,
        max(case when scenario = 'worst' then projected_revenue_usd end) as worst_usd,
        max(case when scenario = 'middle' then projected_revenue_usd end) as middle_usd,
        max(case when scenario = 'best' then projected_revenue_usd end) as best_usd,
        count(*) as scenarios
    from projection
    group by segment, price_model_id, months_ahead
)

select *
from pivoted
where scenarios <> 3
    or not (worst_usd <= middle_usd and middle_usd <= best_usd)
    or (months_ahead = 0 and not (worst_usd = middle_usd and middle_usd = best_usd))
