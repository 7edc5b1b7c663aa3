{#- The readout's metrics (docs block pilot_readout), each an aggregate of fct_account_month's rows
    of a unit's account over a period's months: the one list the readout, its bootstrap and the
    rollback triggers share.
      mrr                               the average MRR a month
      logo_churn                        1 when the account churned in the period, else 0
      bill_shock_rate                   shocked months over the months judged for bill shock
      billing_tickets_per_100_accounts  100 x the average billing tickets a month
      usage_per_account                 the average input + output tokens a month
      gross_margin                      the average gross margin of its months with MRR
    `part`: `measures` gives the select list over `months` (the account-months' relation),
    `unpivot` one row per metric of each row of `relation`, which carries them as columns beside
    `key_columns`. -#}
{% macro pilot_readout_metric_sql(part, months='account_months', relation=none, key_columns=[]) -%}
{%- set metrics = [
    ('mrr', 'avg(cast(' ~ months ~ '.mrr_usd as double))'),
    ('logo_churn', "max(case when " ~ months ~ ".mrr_movement = 'churn' then 1.0 else 0.0 end)"),
    ('bill_shock_rate',
        'sum(case when ' ~ months ~ '.is_bill_shock_judged and ' ~ months ~ '.is_bill_shock'
        ~ ' then 1.0 else 0.0 end) / nullif(sum(case when ' ~ months
        ~ '.is_bill_shock_judged then 1.0 else 0.0 end), 0)'),
    ('billing_tickets_per_100_accounts',
        '100.0 * avg(cast(' ~ months ~ '.billing_tickets as double))'),
    ('usage_per_account',
        'avg(cast(' ~ months ~ '.input_tokens + ' ~ months ~ '.output_tokens as double))'),
    ('gross_margin', 'avg(cast(' ~ months ~ '.gross_margin as double))'),
] -%}
{%- if part == 'measures' -%}
{%- for name, sql in metrics %}
{{ sql }} as {{ name }}{{ "," if not loop.last }}
{%- endfor %}
{%- else -%}
{%- for name, sql in metrics %}
select
    {{ key_columns | join(', ') }},
    cast('{{ name }}' as {{ dbt.type_string() }}) as metric,
    cast({{ name }} as double) as metric_value
from {{ relation }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{%- endif -%}
{%- endmacro %}
