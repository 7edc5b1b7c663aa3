"""After the switch, on the committed sample: its pilot reaches the warehouse, and the months are
split between the models as recomputed here from the landing file alone (plain Python)."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import duckdb
import pytest

from tests.conftest import SEEDS_DIR

ASSIGNMENTS_FILE = SEEDS_DIR / "price_model_assignments__billing.csv"


@pytest.fixture(scope="module")
def warehouse(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        yield connection


def _assignments() -> list[dict[str, str]]:
    with ASSIGNMENTS_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_sample_pilot_and_control_reach_staging_as_delivered(warehouse):
    staged = warehouse.execute(
        """select assignment_id, account_id, price_model_id, cohort,
            strftime(effective_from, '%Y-%m-%dT%H:%M:%SZ')
        from staging.stg_billing__price_model_assignments order by assignment_id"""
    ).fetchall()
    delivered = [
        (
            row["assignment_id"],
            row["account_id"],
            row["price_model_id"],
            row["cohort"],
            row["effective_from"],
        )
        for row in _assignments()
    ]
    assert staged == delivered
    assert {row[3] for row in staged} == {"pilot", "control"}


def test_the_switch_month_is_split_to_the_second_and_later_months_are_the_pilots(warehouse):
    manifest = json.loads((SEEDS_DIR / "_manifest.json").read_text(encoding="utf-8"))
    pilot = manifest["story"]["pilot"]
    assert pilot["switch_month"] == "2025-10"
    october_seconds = 31 * 86_400  # October has 31 days: 2,678,400 s
    for row in _assignments():
        if row["cohort"] != "pilot":
            continue
        switch = datetime.strptime(row["effective_from"], "%Y-%m-%dT%H:%M:%SZ")
        # From the switch to November 1 under the pilot's model, the rest of October current.
        under_pilot = int((datetime(2025, 11, 1) - switch).total_seconds())
        split = warehouse.execute(
            """select strftime(month, '%Y-%m'), price_model_id, seconds_in_force, month_fraction,
                is_month_model
            from intermediate.int_account_months_split_by_price_model
            where account_id = ? and month >= '2025-09-01'
            order by month, price_model_id""",
            [row["account_id"]],
        ).fetchall()
        expected_october = [
            (
                "2025-10",
                "current_per_seat",
                october_seconds - under_pilot,
                pytest.approx((october_seconds - under_pilot) / october_seconds),
                False,
            ),
            (
                "2025-10",
                "hybrid_seat_plus_tokens",
                under_pilot,
                pytest.approx(under_pilot / october_seconds),
                True,
            ),
        ]
        assert split[0][:2] == ("2025-09", "current_per_seat") and split[0][3] == 1
        assert split[1:3] == expected_october
        # November through the sample's last month (February 2026): all under the pilot's model.
        later = split[3:]
        assert [month for month, *_ in later] == ["2025-11", "2025-12", "2026-01", "2026-02"]
        assert {(model, fraction) for _, model, _, fraction, _ in later} == {
            ("hybrid_seat_plus_tokens", 1.0)
        }


def test_an_account_never_assigned_has_one_current_model_row_a_month(warehouse):
    assigned = {row["account_id"] for row in _assignments()}
    rows = warehouse.execute(
        """select account_id, count(*), count(distinct month), min(price_model_id),
            max(price_model_id), min(month_fraction), bool_and(is_month_model)
        from intermediate.int_account_months_split_by_price_model
        group by account_id"""
    ).fetchall()
    never = [row for row in rows if row[0] not in assigned]
    assert never, "the sample has accounts outside the pilot"
    for _, rows_count, months, low, high, fraction, month_model in never:
        assert rows_count == months
        assert (low, high, fraction, month_model) == (
            "current_per_seat",
            "current_per_seat",
            1,
            True,
        )


def test_a_control_account_stays_whole_on_the_current_model_marked_as_control(warehouse):
    controls = [row["account_id"] for row in _assignments() if row["cohort"] == "control"]
    assert controls
    rows = warehouse.execute(
        """select account_id, strftime(month, '%Y-%m'), price_model_id, cohort, month_fraction
        from intermediate.int_account_months_split_by_price_model
        where account_id in (select unnest(?::varchar[])) and month >= '2025-10-01'
        order by account_id, month""",
        [controls],
    ).fetchall()
    # 2025-10 .. 2026-02 is 5 months a control account, one row each: the switch to the control
    # cohort in October and the unassigned first part of October are the same model.
    assert len(rows) == 5 * len(controls)
    assert {row[2:] for row in rows} == {("current_per_seat", "control", 1.0)}


def test_the_generator_pilots_the_proposal_the_warehouse_recommends_for_that_segment(warehouse):
    # The generator cannot read the warehouse: it pilots the proposal its story is built for.
    # The sample's trigger must agree, or the demo's pilot tests a proposal nobody would pick.
    pilot = json.loads((SEEDS_DIR / "_manifest.json").read_text(encoding="utf-8"))["story"]["pilot"]
    triggered = warehouse.execute(
        """select segment, price_model_id from marts.fct_migration_triggers
        where month = (select max(month) from marts.fct_migration_triggers)
            and segment = ? and is_triggered
        order by price_model_id""",
        [pilot["segment"]],
    ).fetchall()
    assert triggered == [(pilot["segment"], pilot["price_model_id"])]
