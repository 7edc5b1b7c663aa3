-- The current per-seat model, rated from the ledger's seats and the plans' prices like any
-- proposal, must reproduce the real invoices' recurring charges: shadow and live invoices that
-- disagree point at a data or rule bug (DOMAIN.md). The only exceptions are account-months where
-- the reconciliation found a broken subscription line (the billing system's own error). A cent of
-- tolerance absorbs the conversion of non-USD lines.
with

current_model as (
    select
        account_id,
        month
    from {{ ref('fct_shadow_invoice') }}
    where
        price_model_id = 'current_per_seat'
        and abs(shadow_usd - actual_recurring_usd) > 0.01
),

explained as (
    select distinct
        account_id,
        cast({{ dbt.date_trunc('month', 'period_start') }} as date) as month
    from {{ ref('fct_invoice_reconciliation') }}
    where
        line_type = 'subscription'
        and is_match = false
),

unexplained as (
    select current_model.*
    from current_model
    left join explained
        on
            current_model.account_id = explained.account_id
            and current_model.month = explained.month
    where explained.account_id is null
)

select * from unexplained
