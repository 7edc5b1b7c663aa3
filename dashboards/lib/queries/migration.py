"""The migration plan: who switches when, the waves, what the plan does to revenue."""

from __future__ import annotations

import pandas as pd

from ._core import _read


def migration_plan(segment: str, price_model_id: str) -> pd.DataFrame:
    """fct_migration_plan of one segment (every segment for `all`) under one proposal."""
    return _read(
        "the migration plan",
        """
        select plan.wave, plan.plan_position, plan.account_id, accounts.account_name,
            plan.segment, plan.renewal_date, plan.switch_month, plan.grandfathered_until_month,
            plan.current_monthly_usd, plan.proposed_monthly_usd, plan.delta_pct,
            plan.window_bill_change_pct,
            plan.transition_credit_usd, plan.transition_credit_total_usd,
            plan.billed_at_switch_usd, plan.is_bill_shock_without_credit,
            plan.is_bill_shock_at_switch, plan.fit_score, plan.fit_rank, plan.is_pilot_eligible,
            plan.is_on_proposal, plan.held_until_month
        from marts.fct_migration_plan as plan
        left join marts.dim_accounts as accounts on plan.account_id = accounts.account_id
        where (plan.segment = ? or ? = 'all') and plan.price_model_id = ?
        order by plan.wave, plan.segment, plan.plan_position
        """,
        (segment, segment, price_model_id),
    )


def migration_waves(segment: str, price_model_id: str) -> pd.DataFrame:
    """The plan's waves: accounts, bills, credits, bill shock with and without the credit, and
    the accounts held back for a pilot's readout."""
    return _read(
        "the migration plan's waves",
        """
        select wave, min(switch_month) as first_switch_month,
            max(switch_month) as last_switch_month, count(*) as accounts,
            sum(current_monthly_usd) as current_monthly_usd,
            sum(proposed_monthly_usd) as proposed_monthly_usd,
            sum(proposed_monthly_usd) / nullif(sum(current_monthly_usd), 0) - 1 as delta_pct,
            count(*) filter (where transition_credit_usd > 0) as credited_accounts,
            sum(transition_credit_total_usd) as transition_credit_total_usd,
            count(*) filter (where is_bill_shock_without_credit) as shocked_without_credit,
            count(*) filter (where is_bill_shock_at_switch) as shocked_at_switch,
            count(held_until_month) as held_accounts
        from marts.fct_migration_plan
        where (segment = ? or ? = 'all') and price_model_id = ?
        group by wave
        order by wave
        """,
        (segment, segment, price_model_id),
    )


def migration_plan_impact(segment: str, price_model_id: str) -> pd.DataFrame:
    """rpt_migration_plan_impact of one segment (or `all`) under one proposal, month by month."""
    return _read(
        "what the plan does to revenue",
        """
        select * exclude (migration_plan_impact_id)
        from marts.rpt_migration_plan_impact
        where segment = ? and price_model_id = ?
        order by months_ahead
        """,
        (segment, price_model_id),
    )
