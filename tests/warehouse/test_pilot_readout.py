"""The pilot read out against its control group (docs block pilot_readout), on real builds:

- the bootstrap's weights are Poisson(1) draws, independent across accounts (their mean, variance
  and correlations, measured on the generated company's 1,000 resamples);
- the readout's means and differences in differences equal a plain-Python computation from
  fct_account_month and the assignments export alone;
- the generated company made into two (`make test-scale`): one without an effect (nobody in either
  arm churns after the switch) does not cross the churn rollback trigger; the same with half its
  pilot canceled the month after the switch crosses it; the readout recovers the planted churn,
  and in both the interval of the MRR's difference in differences holds the pilot's true effect on
  its MRR (billed under the hybrid, against a third build in which nobody switched).
"""

from __future__ import annotations

import csv
import math
import shutil
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_refresh

HISTORY_MONTHS = 6  # readout_history_months, the default
ASSIGNMENTS = "price_model_assignments__billing.csv"


def _rows(warehouse: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params).fetchall()


def test_the_bootstrap_weights_are_independent_poisson_draws(generated_warehouse):
    weights = _rows(
        generated_warehouse,
        """select unit_id, sample_id, weight from intermediate.int_pilot_bootstrap_weights
        order by unit_id, sample_id""",
    )
    by_unit: dict[str, list[int]] = {}
    for unit, _, weight in weights:
        by_unit.setdefault(unit, []).append(weight)
    assert len(by_unit) >= 4 and all(len(w) == 1000 for w in by_unit.values())
    every = [w for ws in by_unit.values() for w in ws]
    # Poisson(1): mean 1 and variance 1; over n draws the mean's standard error is 1 / sqrt(n)
    n = len(every)
    assert abs(statistics.fmean(every) - 1) < 4 / math.sqrt(n)
    assert abs(statistics.pvariance(every) - 1) < 0.1
    # P(W = 0) = e^-1
    assert abs(every.count(0) / n - math.exp(-1)) < 4 * math.sqrt(0.23 / n)
    # independent across units: over 1,000 resamples a correlation's standard error is ~0.032
    units = list(by_unit.values())
    worst = max(
        abs(_correlation(units[i], units[j]))
        for i in range(len(units))
        for j in range(i + 1, len(units))
    )
    assert worst < 0.15


def _correlation(x: list[int], y: list[int]) -> float:
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def _month(value: datetime) -> datetime:
    return datetime(value.year, value.month, 1)


def _add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1)


def _independent_readout(landing: Path, warehouse: Path) -> dict[str, dict[str, float]]:
    """Per metric (MRR and logo churn), each arm's before and after means, from the landing
    file's assignments (earliest start per account and cohort) and fct_account_month alone."""
    with (landing / "price_model_assignments__billing.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    starts: dict[tuple[str, str], datetime] = {}
    for row in rows:
        if row["cohort"] not in ("pilot", "control"):
            continue
        key = (row["cohort"], row["account_id"])
        start = datetime.strptime(row["effective_from"], "%Y-%m-%dT%H:%M:%SZ")
        starts[key] = min(starts.get(key, start), start)
    months = {
        (account, month.replace(tzinfo=None) if hasattr(month, "tzinfo") else month): (mrr, move)
        for account, month, mrr, move in _rows(
            warehouse,
            "select account_id, cast(month as timestamp), mrr_usd, mrr_movement "
            "from marts.fct_account_month",
        )
    }
    as_of = max(month for _, month in months)
    means: dict[str, dict[str, float]] = {"mrr": {}, "logo_churn": {}}
    for arm in ("pilot", "control"):
        for period in ("before", "after"):
            mrr_values, churn_values = [], []
            for (cohort, account), start in starts.items():
                if cohort != arm:
                    continue
                switch = _month(start)
                if period == "before":
                    first, last = _add_months(switch, -HISTORY_MONTHS), _add_months(switch, -1)
                else:
                    first, last = switch, as_of
                inside = [
                    value
                    for (acc, month), value in months.items()
                    if acc == account and first <= month <= last
                ]
                if not inside:
                    continue
                mrr_values.append(statistics.fmean(float(mrr) for mrr, _ in inside))
                churn_values.append(1.0 if any(move == "churn" for _, move in inside) else 0.0)
            means["mrr"][f"{arm}_{period}"] = statistics.fmean(mrr_values)
            means["logo_churn"][f"{arm}_{period}"] = statistics.fmean(churn_values)
    return means


def _readout(warehouse: Path) -> dict[str, dict[str, float | None]]:
    columns = (
        "pilot_before", "pilot_after", "control_before", "control_after",
        "difference_in_differences", "interval_low", "interval_high",
    )  # fmt: skip
    return {
        metric: dict(zip(columns, values, strict=True))
        for metric, *values in _rows(
            warehouse, f"select metric, {', '.join(columns)} from marts.fct_pilot_readout"
        )
    }


def test_the_readout_equals_an_independent_computation(generated_company, generated_warehouse):
    landing = Path(generated_company["warehouse"]).parent / "landing"
    expected = _independent_readout(landing, generated_warehouse)
    readout = _readout(generated_warehouse)
    for metric, arms in expected.items():
        for key, value in arms.items():
            assert readout[metric][key] == pytest.approx(value, rel=1e-9, abs=1e-9), (metric, key)
        did = (arms["pilot_after"] - arms["pilot_before"]) - (
            arms["control_after"] - arms["control_before"]
        )
        assert readout[metric]["difference_in_differences"] == pytest.approx(did, abs=1e-9)


SUBSCRIPTION_FIELDS = (
    "subscription_id", "account_id", "plan_id", "status", "started_at", "canceled_at", "updated_at",
)  # fmt: skip


def _subscriptions(warehouse: Path) -> list[dict[str, str]]:
    """The subscriptions the build holds (each one's latest clean version), as export rows."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return [
        dict(zip(SUBSCRIPTION_FIELDS, row, strict=True))
        for row in _rows(
            warehouse,
            f"""select subscription_id, account_id, plan_id, status,
                strftime(started_at, '{stamp}'), coalesce(strftime(canceled_at, '{stamp}'), ''),
                strftime(updated_at, '{stamp}')
            from staging.stg_billing__subscriptions order by subscription_id""",
        )
    ]


def _arms(landing: Path) -> dict[str, tuple[str, datetime]]:
    with (landing / "price_model_assignments__billing.csv").open(newline="") as handle:
        return {
            row["account_id"]: (
                row["cohort"],
                datetime.strptime(row["effective_from"], "%Y-%m-%dT%H:%M:%SZ"),
            )
            for row in csv.DictReader(handle)
            if row["cohort"] in ("pilot", "control")
        }


def _append_versions(landing: Path, rows: list[dict[str, str]]) -> None:
    with (landing / "subscriptions__updates.csv").open("a", newline="") as handle:
        csv.DictWriter(handle, fieldnames=SUBSCRIPTION_FIELDS, lineterminator="\n").writerows(rows)


def _without_churn_after_the_switch(landing: Path, warehouse: Path, stamp: str) -> int:
    """A company without an effect: every subscription of a pilot or control account canceled
    after its switch keeps running (a newer version, not canceled). Returns how many."""
    arms = _arms(landing)
    kept = [
        row | {"status": "active", "canceled_at": "", "updated_at": stamp}
        for row in _subscriptions(warehouse)
        if row["account_id"] in arms
        and row["canceled_at"]
        and datetime.strptime(row["canceled_at"], "%Y-%m-%dT%H:%M:%SZ")
        >= _month(arms[row["account_id"]][1])
    ]
    _append_versions(landing, kept)
    return len(kept)


def _plant_churn(landing: Path, warehouse: Path, stamp: str) -> tuple[int, int]:
    """Cancel every subscription of half the pilot's accounts the month after their switch (a
    newer version of each). Returns (accounts planted, pilot accounts)."""
    arms = _arms(landing)
    pilots = {account: start for account, (cohort, start) in arms.items() if cohort == "pilot"}
    planted = sorted(pilots)[: len(pilots) // 2]
    rows = []
    for row in _subscriptions(warehouse):
        if row["account_id"] not in planted:
            continue
        canceled = _add_months(_month(pilots[row["account_id"]]), 1) + timedelta(days=9)
        when = canceled.strftime("%Y-%m-%dT%H:%M:%SZ")
        if row["canceled_at"] and row["canceled_at"] < when:
            continue  # ended before: nothing to cancel
        rows.append(row | {"status": "canceled", "canceled_at": when, "updated_at": stamp})
    _append_versions(landing, rows)
    return len(planted), len(pilots)


def _churn_trigger(warehouse: Path) -> tuple[float, bool]:
    [(value, crossed)] = _rows(
        warehouse,
        "select trigger_value, is_crossed from marts.fct_pilot_rollback_triggers "
        "where trigger_name = 'logo_churn'",
    )
    return value, crossed


@pytest.mark.scale
def test_churn_planted_in_a_pilot_crosses_the_rollback_trigger_and_is_recovered(
    generated_company, generated_warehouse, tmp_path
):
    # Two versions of the generated company: without an effect (nobody in either arm churns
    # after the switch), and the same with half the pilot canceled the month after its switch.
    source = Path(generated_company["warehouse"]).parent / "landing"
    # newer than every delivered version, and still a plausible time
    stamp, later = "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"
    runs = {}
    # A third build of the company without an effect, with no assignments export: nobody switched,
    # so every pilot account's MRR is what its seats bill, the world the pilot is measured against.
    for name in ("without", "planted", "never_switched"):
        landing = tmp_path / name / "landing"
        shutil.copytree(source, landing)
        _without_churn_after_the_switch(landing, generated_warehouse, stamp)
        if name == "planted":
            planted, pilots = _plant_churn(landing, generated_warehouse, later)
        if name == "never_switched":
            (landing / ASSIGNMENTS).rename(tmp_path / name / ASSIGNMENTS)
        run = run_refresh(landing, tmp_path / name / "seatshift.duckdb")
        assert run.returncode == 0, run.stdout + run.stderr
        runs[name] = run.warehouse
    assert planted >= 2, "the generated pilot has accounts to cancel"

    without_value, without_crossed = _churn_trigger(runs["without"])
    planted_value, planted_crossed = _churn_trigger(runs["planted"])
    assert without_value == 0 and not without_crossed
    assert planted_crossed
    # each planted account adds 1 / pilots to the pilot's churn after the switch, nothing before
    planted_effect = planted / pilots
    assert planted_value == pytest.approx(planted_effect, abs=1e-9)
    without, with_plant = _readout(runs["without"]), _readout(runs["planted"])
    churn = with_plant["logo_churn"]
    assert churn["difference_in_differences"] == pytest.approx(planted_effect, abs=1e-9)
    assert churn["interval_low"] <= planted_effect <= churn["interval_high"], churn
    # the MRR the planted accounts stopped paying lowers the estimate
    mrr_effect = (
        with_plant["mrr"]["difference_in_differences"] - without["mrr"]["difference_in_differences"]
    )
    assert mrr_effect < 0
    # The pilot's true effect on its MRR: the pilot accounts' mean MRR after the switch as billed
    # (under the hybrid; and, planted, with half of them gone) less the same accounts' mean MRR
    # had nobody switched (their seats, the build without the export). Both planted effects, the
    # new price and the churn, are recovered: each build's interval holds its true effect.
    arms = tmp_path / "without" / "landing"
    seats_only = _independent_readout(arms, runs["never_switched"])["mrr"]["pilot_after"]
    for name in ("without", "planted"):
        billed = _independent_readout(arms, runs[name])["mrr"]["pilot_after"]
        mrr = _readout(runs[name])["mrr"]
        true_effect = billed - seats_only
        assert mrr["interval_low"] <= true_effect <= mrr["interval_high"], (name, true_effect, mrr)
        print(f"{name}: true MRR effect {true_effect:+.2f}, estimated {mrr}")
