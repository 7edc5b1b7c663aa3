-- Grain: one row per account per month, from the account's first month to the data's as-of month.
with

account_months as (select * from {{ ref('int_account_months_spined') }}),

accounts as (select * from {{ ref('stg_crm__accounts') }}),

seats as (select * from {{ ref('int_seat_events_netted_to_account_month') }}),

usage_rolled_up as (select * from {{ ref('int_usage_events_rolled_up_to_account_month') }}),

-- Distinct users are counted on the rollup (a few rows per user), never on the raw events.
usage_by_account_month as (
    select
        account_id,
        month,
        count(distinct user_id) as active_users,
        sum(usage_events) as usage_events,
        sum(tasks) as tasks,
        sum(case when actor_type = 'agent' then tasks else 0 end) as agent_tasks,
        sum(case when actor_type = 'human' then tasks else 0 end) as human_tasks,
        sum(resolved_tasks) as resolved_tasks,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens
    from usage_rolled_up
    group by account_id, month
),

joined as (
    select
        account_months.account_id,
        account_months.month,
        accounts.segment,
        account_months.first_month,
        coalesce(seats.billable_seats, 0) as billable_seats,
        coalesce(usage_by_account_month.active_users, 0) as active_users,
        coalesce(usage_by_account_month.usage_events, 0) as usage_events,
        coalesce(usage_by_account_month.tasks, 0) as tasks,
        coalesce(usage_by_account_month.agent_tasks, 0) as agent_tasks,
        coalesce(usage_by_account_month.human_tasks, 0) as human_tasks,
        coalesce(usage_by_account_month.resolved_tasks, 0) as resolved_tasks,
        coalesce(usage_by_account_month.input_tokens, 0) as input_tokens,
        coalesce(usage_by_account_month.output_tokens, 0) as output_tokens
    from account_months
    inner join accounts
        on account_months.account_id = accounts.account_id
    left join seats
        on account_months.account_id = seats.account_id
            and account_months.month = seats.month
    left join usage_by_account_month
        on account_months.account_id = usage_by_account_month.account_id
            and account_months.month = usage_by_account_month.month
),

ratios as (
    select
        *,
        cast(active_users as double) / nullif(billable_seats, 0)
            as seat_utilization,
        cast(agent_tasks as double) / nullif(tasks, 0) as automation_share
    from joined
),

final as (
    select
        account_id || '|' || cast(month as {{ dbt.type_string() }}) as account_month_id,
        account_id,
        month,
        segment,
        first_month,
        cast(billable_seats as {{ dbt.type_bigint() }}) as billable_seats,
        cast(active_users as {{ dbt.type_bigint() }}) as active_users,
        seat_utilization,
        case
            when seat_utilization is null then null
            when seat_utilization > {{ var('utilization_healthy') }} then 'healthy'
            when seat_utilization < {{ var('utilization_red_flag') }} then 'red_flag'
            else 'watch'
        end as seat_utilization_band,
        cast(usage_events as {{ dbt.type_bigint() }}) as usage_events,
        cast(tasks as {{ dbt.type_bigint() }}) as tasks,
        cast(agent_tasks as {{ dbt.type_bigint() }}) as agent_tasks,
        cast(human_tasks as {{ dbt.type_bigint() }}) as human_tasks,
        automation_share,
        cast(resolved_tasks as {{ dbt.type_bigint() }}) as resolved_tasks,
        cast(input_tokens as {{ dbt.type_bigint() }}) as input_tokens,
        cast(output_tokens as {{ dbt.type_bigint() }}) as output_tokens
    from ratios
)

select * from final
