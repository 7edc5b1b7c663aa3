{#- The bill-shock rule on one bill (docs block bill_shock): a judged month whose total is more than
    `bill_shock_ratio` x the average of the three billed months before it, and higher than that
    average by at least `bill_shock_min_usd`. Compared as totals of three (3 x total against ratio
    x the three's sum), so a boundary case is decided in exact decimals, never by a rounded
    average. -#}
{% macro is_bill_shock(is_judged, amount, prior_three_total) -%}
    coalesce(
        {{ is_judged }}
        and 3 * {{ amount }} > {{ var('bill_shock_ratio') }} * {{ prior_three_total }}
        and 3 * {{ amount }} - {{ prior_three_total }} >= 3 * {{ var('bill_shock_min_usd') }},
        false
    )
{%- endmacro %}


{#- The windows the bill-shock rule reads, over the billed months of `relation` (those where
    `billed` holds): per account and model, how many months were billed before, and how many of
    the three before carry an amount and their sum. -#}
{% macro prior_billed_months(relation, amount, billed) -%}
    select
        account_id,
        month,
        price_model_id,
        count(*) over (
            partition by account_id, price_model_id
            order by month
            rows between unbounded preceding and 1 preceding
        ) as prior_billed_months,
        count({{ amount }}) over (
            partition by account_id, price_model_id
            order by month
            rows between 3 preceding and 1 preceding
        ) as prior_three_known,
        sum({{ amount }}) over (
            partition by account_id, price_model_id
            order by month
            rows between 3 preceding and 1 preceding
        ) as prior_three_total_usd
    from {{ relation }}
    where {{ billed }}
{%- endmacro %}
