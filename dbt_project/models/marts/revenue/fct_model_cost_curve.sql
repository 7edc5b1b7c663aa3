-- Grain: one row per LLM model tier (model).
-- How fast each tier's cost falls, measured on the analyst's price list: the first and the latest
-- dated price of the tier, each as the cost of 1,000 input plus 1,000 output tokens, and the
-- yearly decline between them, 1 - (latest / first)^(365.25 / days between); 0 for a tier with
-- fewer than two dated prices. projection_yearly_decline is the decline the projection applies to
-- the tier's cost (docs block projection_cost_curve): the setting projection_yearly_cost_decline's
-- for a tier it names, else the measured one.
{%- set set_declines = var('projection_yearly_cost_decline') or {} %}
{#- (a linter renders this file without dbt: its stand-in for a var is a string) #}
{%- if set_declines is string %}{% set set_declines = {} %}{% endif %}
{%- if set_declines is not mapping %}
    {{ exceptions.raise_compiler_error(
        'projection_yearly_cost_decline must map model tiers to a yearly decline, e.g. '
        ~ '{frontier: 0.40}; got ' ~ set_declines) }}
{%- endif %}
{%- for tier in set_declines %}
    {%- set decline = set_declines[tier] %}
    {%- if decline is not number or decline < 0 or decline >= 1 %}
        {{ exceptions.raise_compiler_error(
            'projection_yearly_cost_decline: the decline of ' ~ tier
            ~ ' must be a fraction from 0 up to (not including) 1; got ' ~ decline) }}
    {%- endif %}
{%- endfor %}
with

prices as (
    select * from {{ ref('int_model_costs_in_force') }}
    where effective_from is not null
),

ranked as (
    select
        model,
        effective_from,
        input_usd_per_1k_tokens + output_usd_per_1k_tokens as usd_per_1k_in_and_out,
        row_number() over (partition by model order by effective_from) as from_first,
        row_number() over (partition by model order by effective_from desc) as from_latest
    from prices
),

ends as (
    select
        model,
        count(*) as dated_prices,
        max(case when from_first = 1 then effective_from end) as first_effective_from,
        max(case when from_latest = 1 then effective_from end) as latest_effective_from,
        max(case when from_first = 1 then usd_per_1k_in_and_out end) as first_usd_per_1k,
        max(case when from_latest = 1 then usd_per_1k_in_and_out end) as latest_usd_per_1k
    from ranked
    group by model
),

measured as (
    select
        *,
        {{ double_quotient('latest_usd_per_1k', 'first_usd_per_1k') }} as price_ratio,
        {{ dbt.datediff('first_effective_from', 'latest_effective_from', 'day') }}
            as days_between
    from ends
    where dated_prices >= 2
        and first_usd_per_1k > 0
        and latest_effective_from > first_effective_from
),

tiers as (
    select distinct model from {{ ref('int_model_costs_in_force') }}
),

measured_tiers as (
    select
        tiers.model,
        cast(coalesce(ends.dated_prices, 0) as {{ dbt.type_bigint() }}) as dated_prices,
        ends.first_effective_from,
        ends.latest_effective_from,
        cast(ends.first_usd_per_1k as decimal(18, 8)) as first_usd_per_1k_in_and_out,
        cast(ends.latest_usd_per_1k as decimal(18, 8)) as latest_usd_per_1k_in_and_out,
        -- rounded: the last bits of a power of doubles differ between engines
        cast(
            coalesce(round(1 - power(measured.price_ratio, 365.25 / measured.days_between), 12), 0)
            as double
        ) as yearly_decline
    from tiers
    left join ends
        on tiers.model = ends.model
    left join measured
        on tiers.model = measured.model
),

final as (
    select
        *,
        {%- if set_declines %}
        case model
            {%- for tier in set_declines %}
            when {{ sql_text_literal(tier) }} then cast({{ set_declines[tier] }} as double)
            {%- endfor %}
            else yearly_decline
        end as projection_yearly_decline,
        model in (
            {%- for tier in set_declines %}{{ sql_text_literal(tier) }}{{ ", " if not loop.last }}{% endfor -%}
        ) as is_projection_decline_set
        {%- else %}
        yearly_decline as projection_yearly_decline,
        false as is_projection_decline_set
        {%- endif %}
    from measured_tiers
)

select * from final
