"""The migration plan leaves a running pilot alone, on the committed sample and on a generated
company: the accounts a pilot already moved to a proposal (and still billed under it at the plan's
start) are that proposal's wave 0, and no account a pilot's readout follows (the control cohort, or
the accounts piloting another proposal) switches before the readout has readout_history_months
after its pilot's switch.

Who is where is recomputed here from the assignments export as staged, independently of the mart's
SQL and of int_pilot_arms (both companies name a control cohort, so no matched control enters)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture(params=["sample", "generated"])
def warehouse(request: pytest.FixtureRequest) -> Path:
    name = "sample_warehouse" if request.param == "sample" else "generated_warehouse"
    return Path(request.getfixturevalue(name))


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
