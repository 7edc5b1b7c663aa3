"""Pilot eligibility follows the verdict and the bill-change limits, on the committed sample and on
a generated company: no account may pilot a proposal that does not pass the migration trigger in
its segment, nor while it is in a pilot or a pilot's control group (the assignments export), nor
with a bill change at the switch outside pilot_min_bill_change_pct .. pilot_max_bill_change_pct.

The bill change is recomputed here from fct_account_month (the MRR over the trailing window) and
fct_shadow_invoice (the proposal's shadow charges of the same months), independently of the mart's
SQL, the verdict read from fct_migration_triggers and the cohorts from the assignments.

The migration plan leaves a running pilot alone: the accounts a pilot already moved to a proposal
(and still billed under it at the plan's start) are that proposal's wave 0, and no account a
pilot's readout follows (the control cohort, or the accounts piloting another proposal) switches
before the readout has readout_history_months after its pilot's switch. Who is where is recomputed
from the assignments export as staged, independently of the mart's SQL and of int_pilot_arms (both
companies name a control cohort, so no matched control enters)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture(params=["sample", "generated"])
def warehouse(request: pytest.FixtureRequest) -> Path:
    name = "sample_warehouse" if request.param == "sample" else "generated_warehouse"
    return Path(request.getfixturevalue(name))


def test_no_account_may_pilot_outside_the_limits_or_a_failing_proposal(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        settings = dict(conn.execute("select name, value from marts.rpt_settings").fetchall())
        low = float(settings["pilot_min_bill_change_pct"])
        high = float(settings["pilot_max_bill_change_pct"])
        window = int(settings["trigger_window_months"])
        rows = conn.execute(
            f"""
            with as_of as (select max(month) as month from marts.fct_account_month),
            bounds as (
                select month as window_last, month - interval {window - 1} month as window_first
                from as_of
            ),
            paid as (
                select account_id, sum(coalesce(mrr_usd, 0)) as mrr_usd
                from marts.fct_account_month, bounds
                where month between window_first and window_last
                group by account_id
            ),
            shadow as (
                select account_id, price_model_id, sum(shadow_usd) as shadow_usd
                from marts.fct_shadow_invoice, bounds
                where month between window_first and window_last
                group by account_id, price_model_id
            ),
            -- a proposal is piloted only where it passes the trigger (value leaving, guardrails)
            verdicts as (
                select segment, price_model_id, is_triggered
                from marts.fct_migration_triggers, bounds
                where month = window_last
            ),
            -- the accounts the assignments export already put in a pilot or its control group
            assigned as (
                select account_id, max(cohort) as cohort
                from staging.stg_billing__price_model_assignments
                group by account_id
            )
            select
                pilots.account_id, pilots.price_model_id, pilots.is_pilot_eligible,
                shadow.shadow_usd / paid.mrr_usd - 1 as bill_change,
                verdicts.is_triggered, pilots.ineligible_reason, assigned.cohort
            from marts.fct_pilot_accounts as pilots
            join paid using (account_id)
            join shadow using (account_id, price_model_id)
            join verdicts using (segment, price_model_id)
            left join assigned using (account_id)
            """
        ).fetchall()
        (pilot_rows,) = conn.execute("select count(*) from marts.fct_pilot_accounts").fetchone()
    assert rows and len(rows) == pilot_rows
    eligible = [row for row in rows if row[2]]
    assert eligible, "some account may pilot some proposal"
    outside = [row for row in eligible if not low - 1e-9 <= row[3] <= high + 1e-9]
    failing = [row for row in eligible if not row[4]]
    assigned = [row for row in eligible if row[6] is not None]
    assert outside == []
    assert failing == []
    assert assigned == []
    # and the reverse: an account inside the limits, under a proposal that passes the trigger,
    # with a reason to be left out has one of the other rules against it (already in a pilot or
    # its control group, paying nothing, or shocked)
    for _, _, is_eligible, bill_change, triggered, reason, cohort in rows:
        if not is_eligible and triggered and low <= bill_change <= high:
            expected = {
                "pilot": ("already in a pilot",),
                "control": ("in the control group of a pilot",),
            }.get(
                cohort,
                ("pays nothing at the last month", "shocked under the proposal in the window"),
            )
            assert reason in expected, (reason, cohort)


def test_the_plan_keeps_the_running_pilot_and_holds_its_readouts_accounts(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        settings = dict(conn.execute("select name, value from marts.rpt_settings").fetchall())
        readout = int(float(settings["readout_history_months"]))
        rows = conn.execute(
            f"""
            with assignments as (select * from staging.stg_billing__price_model_assignments),
            plan_start as (
                select distinct as_of_month + interval 1 month as start
                from marts.fct_migration_plan
            ),
            -- still billed under the proposal when the plan starts (effective_to is exclusive)
            on_proposal as (
                select account_id, price_model_id,
                    min(date_trunc('month', effective_from)) as switched
                from assignments, plan_start
                where cohort = 'pilot' and effective_from < start
                    and (effective_to is null or effective_to > start)
                group by all
            ),
            -- each account a readout follows, with its pilot's switch month and which proposal
            -- it pilots (null for a control account: every pilot's readout follows it)
            followed as (
                select account_id, price_model_id as piloting,
                    min(date_trunc('month', effective_from)) as switched
                from assignments where cohort = 'pilot' group by all
                union all
                select account_id, null, min(date_trunc('month', effective_from))
                from assignments where cohort = 'control' group by all
            ),
            holds as (
                select plan.account_id, plan.price_model_id,
                    max(followed.switched + interval {readout} month) as held_until
                from marts.fct_migration_plan as plan
                join followed
                    on plan.account_id = followed.account_id
                    and plan.price_model_id is distinct from followed.piloting
                group by all
            )
            select plan.account_id, plan.price_model_id, plan.wave, plan.switch_month,
                plan.is_on_proposal, plan.held_until_month,
                on_proposal.switched is not null as expected_on_proposal, on_proposal.switched,
                cast(holds.held_until as date) as expected_held_until
            from marts.fct_migration_plan as plan
            left join on_proposal using (account_id, price_model_id)
            left join holds using (account_id, price_model_id)
            """
        ).fetchall()
    assert rows
    on_proposal = [row for row in rows if row[6]]
    held = [row for row in rows if row[8] is not None and not row[6]]
    # the companies run a pilot with a control group: both rules have accounts to act on
    assert on_proposal and held
    for account, model, wave, switch, is_on, held_until, expected_on, switched, expected in rows:
        where = (account, model)
        assert is_on == expected_on, where
        assert (wave == 0) == expected_on, where
        if expected_on:
            assert switch == switched.date(), where
            continue
        assert held_until == expected, where
        if expected is not None:
            assert switch >= expected and wave != 1, where
