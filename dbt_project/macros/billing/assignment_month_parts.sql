{#- The calendar months of `account_months` (account_id, month) with their UTC bounds:
    month_start_at, month_end_at (the next month's start). -#}
{% macro month_bounds_of(account_months) -%}
select
    account_id,
    month,
    cast(month as {{ dbt.type_timestamp() }}) as month_start_at,
    cast({{ dbt.dateadd('month', 1, 'month') }} as {{ dbt.type_timestamp() }}) as month_end_at
from {{ account_months }}
{%- endmacro %}


{#- The part of each month an assignment covers (docs block price_model_in_force): every month of
    `months` (account_id, month, month_start_at, month_end_at, and any other column it carries)
    that an assignment of `assignments` (account_id, effective_from, effective_to: null while it
    runs) overlaps, with the assignment's `columns` and the part's bounds: from the later of the
    assignment's start and the month's start (part_start_at) to the earlier of its end and the
    month's end (part_end_at). One place for the arithmetic that both the model split and the
    billing periods in force rely on. -#}
{% macro assignment_month_parts(months, assignments, columns) -%}
select
    {{ months }}.*,
    {%- for column in columns %}
    {{ assignments }}.{{ column }},
    {%- endfor %}
    case
        when {{ assignments }}.effective_from > {{ months }}.month_start_at
            then {{ assignments }}.effective_from
        else {{ months }}.month_start_at
    end as part_start_at,
    case
        when {{ assignments }}.effective_to is null
            or {{ assignments }}.effective_to > {{ months }}.month_end_at
            then {{ months }}.month_end_at
        else {{ assignments }}.effective_to
    end as part_end_at
from {{ months }}
inner join {{ assignments }}
    on {{ months }}.account_id = {{ assignments }}.account_id
        and {{ months }}.month_end_at > {{ assignments }}.effective_from
        and (
            {{ assignments }}.effective_to is null
            or {{ months }}.month_start_at < {{ assignments }}.effective_to
        )
{%- endmacro %}
