-- Rule: for every month and segment, the usage mix summed over feature, model tier and actor type
-- gives the tasks, agent tasks, resolved tasks and tokens of fct_account_month, exactly; so the
-- Value shift page's mix and its automation share and usage per seat tell one story.
-- Exceptions: none (a month and segment without usage has no mix rows and 0 tasks in
-- fct_account_month, and is left out on both sides).
with

usage_mix as (select * from {{ ref('fct_usage_mix_monthly') }}),

account_months as (select * from {{ ref('fct_account_month') }}),

mix_totals as (
    select
        month,
        segment,
        sum(tasks) as tasks,
        sum(case when actor_type = 'agent' then tasks else 0 end) as agent_tasks,
        sum(resolved_tasks) as resolved_tasks,
        sum(tokens) as tokens
    from usage_mix
    group by month, segment
),

account_month_totals as (
    select
        month,
        segment,
        sum(tasks) as tasks,
        sum(agent_tasks) as agent_tasks,
        sum(resolved_tasks) as resolved_tasks,
        sum(input_tokens + output_tokens) as tokens
    from account_months
    group by month, segment
    having sum(usage_events) > 0
),

compared as (
    select
        coalesce(mix_totals.month, account_month_totals.month) as month,
        coalesce(mix_totals.segment, account_month_totals.segment) as segment,
        mix_totals.tasks as mix_tasks,
        account_month_totals.tasks as account_month_tasks,
        mix_totals.agent_tasks as mix_agent_tasks,
        account_month_totals.agent_tasks as account_month_agent_tasks,
        mix_totals.resolved_tasks as mix_resolved_tasks,
        account_month_totals.resolved_tasks as account_month_resolved_tasks,
        mix_totals.tokens as mix_tokens,
        account_month_totals.tokens as account_month_tokens
    from mix_totals
    full outer join account_month_totals
        on mix_totals.month = account_month_totals.month
            and mix_totals.segment = account_month_totals.segment
)

select * from compared
where mix_tasks is distinct from account_month_tasks
    or mix_agent_tasks is distinct from account_month_agent_tasks
    or mix_resolved_tasks is distinct from account_month_resolved_tasks
    or mix_tokens is distinct from account_month_tokens
