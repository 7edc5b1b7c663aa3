-- Grain: one row per account per month with at least one support ticket.
with

support_tickets as (select * from {{ ref('stg_helpdesk__support_tickets') }}),

counted as (
    select
        account_id,
        {{ month_of('created_at') }} as month,
        count(*) as support_tickets,
        sum(case when category = 'billing' then 1 else 0 end) as billing_tickets,
        sum(case when category = 'pricing' then 1 else 0 end) as pricing_tickets
    from support_tickets
    group by account_id, {{ month_of('created_at') }}
)

select * from counted
