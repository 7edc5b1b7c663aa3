{{ config(severity='warn') }}
-- Every feature x model tier that occurs in the usage has a row in the credit-rate table;
-- otherwise its requests cost no credits and credit-based proposals look cheaper than they are.
with

usage_pairs as (
    select distinct
        feature,
        model
    from {{ ref('int_usage_events_rolled_up_to_account_month') }}
)

select usage_pairs.*
from usage_pairs
left join {{ ref('credit_rates') }} as credit_rates
    on usage_pairs.feature = credit_rates.feature
        and usage_pairs.model = credit_rates.model
where credit_rates.feature is null
