"""`seatshift check`, the dry run of the load: it reports what the load then does, file for file
and rule for rule, and changes nothing (not the landing folder, not the warehouse)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings
from orchestration.lib.loader.dry_run import dry_run
from orchestration.lib.warehouse import new_refresh_id
from tests.conftest import SEATSHIFT, SEEDS_DIR, refresh_environment
from tests.orchestration.test_cloudevents import AGENT, HUMAN, cloudevent
from tests.orchestration.test_ingest import (
    GOOD_ROWS,
    load_all,
    reference_files,
    row,
    write_csv,
)


def _hostile_landing(folder: Path) -> Path:
    """The committed sample (every value and cross-row rule broken somewhere, duplicates, a
    redelivery), and beside it: files of no export, a file missing a column, files that cannot
    be parsed, a ragged CSV row, a file in another encoding."""
    shutil.copytree(SEEDS_DIR, folder)
    (folder / "invoicez__x.csv").write_text("a\n1\n")
    (folder / "accounts__x.xlsx").write_text("a\n1\n")
    header = [name for name in GOOD_ROWS["accounts"] if name != "segment"]
    write_csv(folder / "accounts__no_segment.csv", [row("accounts", account_id="a9")], header)
    (folder / "accounts__garbage.parquet").write_bytes(b"\x00\x01 not parquet \xff" * 20)
    (folder / "accounts__broken.jsonl").write_bytes(b'{"account_id": "a9", "segment": \n')
    good = ",".join(GOOD_ROWS["support_tickets"])
    (folder / "support_tickets__ragged.csv").write_text(
        f"{good}\nt9,a1,2025-01-01T00:00:00Z,billing\nt10,a1,extra,field,here\n"
    )
    (folder / "support_tickets__latin1.csv").write_bytes(
        f"{good}\nt11,a1,2025-01-01T00:00:00Z,caf\xe9\n".encode("latin-1")
    )
    # price model assignments naming an account nobody knows and a model of no price book
    write_csv(
        folder / "price_model_assignments__bad.csv",
        [
            row("price_model_assignments", assignment_id="pa-x", account_id="nobody"),
            row(
                "price_model_assignments",
                assignment_id="pa-y",
                account_id="acc_00002",  # a sample account
                price_model_id="per_vibe",
            ),
        ],
    )
    # usage as CloudEvents, one of them for an account nobody knows
    events = [
        cloudevent("ce-1", "acc_00001", "2025-06-05T10:00:00Z", **AGENT),
        cloudevent("ce-2", "nobody", "2025-06-05T10:00:00Z", **HUMAN),
    ]
    (folder / "usage_events__meter.jsonl").write_text(
        "".join(json.dumps(event) + "\n" for event in events), encoding="utf-8"
    )
    return folder


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def _load_outcome(conn: duckdb.DuckDBPyConnection, reports: dict) -> dict[str, tuple]:
    rules = {}
    for file_name, rule, count in conn.execute(
        "select file_name, rule, count(*) from audit.quarantine group by all"
    ).fetchall():
        rules.setdefault(file_name, {})[rule] = count
    return {
        name: (
            report.export,
            report.status,
            report.rows_read,
            report.rows_loaded,
            report.rows_duplicate,
            report.rows_quarantined,
            report.message,
            rules.get(name, {}),
        )
        for name, report in reports.items()
    }


def _check_outcome(verdicts) -> dict[str, tuple]:
    return {
        verdict.report.file_name: (
            verdict.report.export,
            verdict.report.status,
            verdict.report.rows_read,
            verdict.report.rows_loaded,
            verdict.report.rows_duplicate,
            verdict.report.rows_quarantined,
            verdict.report.message,
            verdict.rules,
        )
        for verdict in verdicts
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return _hostile_landing(tmp_path_factory.mktemp("check") / "landing")


def test_the_dry_run_reports_what_the_load_then_does_file_for_file_and_rule_for_rule(
    hostile, tmp_path
):
    checked = _check_outcome(dry_run(hostile, None))

    with duckdb.connect(str(tmp_path / "loaded.duckdb")) as conn:
        loaded = _load_outcome(conn, load_all(conn, hostile, refresh_id=new_refresh_id()))

    assert checked == loaded
    # the fixture does reach every outcome: rejected files, quarantined and duplicate rows
    statuses = {outcome[1] for outcome in checked.values()}
    assert statuses == {"loaded", "rejected"}
    assert sum(1 for outcome in checked.values() if outcome[1] == "rejected") == 6
    assert sum(outcome[5] for outcome in checked.values()) > 50
    assert sum(outcome[4] for outcome in checked.values()) > 50
    assert "malformed_row" in checked["support_tickets__ragged.csv"][7]
    assert checked["usage_events__meter.jsonl"][3:6] == (1, 0, 1)  # CloudEvents: one unknown
    assert checked["price_model_assignments__bad.csv"][7] == {
        "unknown_account": 1,
        "unknown_price_model": 1,
    }


def test_the_dry_run_reports_the_assignments_problems_rule_by_rule(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    reference_files(landing)  # accounts a1 and a2
    assignment = lambda key, **changes: row(  # noqa: E731
        "price_model_assignments", assignment_id=key, **changes
    )
    write_csv(
        landing / "price_model_assignments__pilot.csv",
        [
            assignment("clean"),  # a1 from 2025-02-01, open-ended
            assignment("late", effective_from="2025-04-15T00:00:00Z"),  # overlaps `clean`
            assignment("model", account_id="a2", price_model_id="per_vibe"),
            assignment("who", account_id="a9"),
            assignment("backwards", account_id="a2", effective_to="2025-01-01T00:00:00Z"),
        ],
    )

    verdicts = {verdict.report.file_name: verdict for verdict in dry_run(landing, None)}

    verdict = verdicts["price_model_assignments__pilot.csv"]
    report = verdict.report
    # 5 read = 1 loaded + 0 duplicates + 4 quarantined, one a rule.
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate) == (5, 1, 0)
    assert report.rows_quarantined == 4
    assert verdict.rules == {
        "effective_to_not_after_from": 1,
        "overlapping_assignment": 1,
        "unknown_account": 1,
        "unknown_price_model": 1,
    }
    # The months the loaded row covers, by its first time column (effective_from).
    assert (str(verdict.first_month), str(verdict.last_month)) == ("2025-02-01", "2025-02-01")


def test_against_a_loaded_warehouse_it_says_what_is_already_there(tmp_path):
    landing = shutil.copytree(SEEDS_DIR, tmp_path / "landing")
    warehouse = tmp_path / "seatshift.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, landing, refresh_id=new_refresh_id())
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    write_csv(landing / "support_tickets__new.csv", [row("support_tickets", ticket_id="t-new")])

    verdicts = {verdict.report.file_name: verdict for verdict in dry_run(landing, warehouse)}

    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert verdicts["support_tickets__new.csv"].report.status == "loaded"
    already = [name for name, verdict in verdicts.items() if name != "support_tickets__new.csv"]
    assert {verdicts[name].report.status for name in already} == {"skipped_already_loaded"}


def test_a_warehouse_moved_with_its_lake_is_judged_against_its_own_parts(tmp_path):
    """Moved (restored elsewhere, a new disk) with its lake, a warehouse's list still names the
    old folder until its next refresh: the dry run reads the parts where they are now. Before,
    every new file was rejected as one that "cannot be parsed" (the parts were not found)."""
    landing = shutil.copytree(SEEDS_DIR, tmp_path / "landing")
    loaded = tmp_path / "before" / "seatshift.duckdb"
    loaded.parent.mkdir()
    with duckdb.connect(str(loaded)) as conn:
        load_all(conn, landing, refresh_id=new_refresh_id())
    warehouse = tmp_path / "after" / "seatshift.duckdb"
    warehouse.parent.mkdir()
    shutil.move(loaded, warehouse)
    shutil.move(settings.lake_dir(loaded), settings.lake_dir(warehouse))
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    parts = sorted(settings.lake_dir(warehouse).rglob("*"))
    write_csv(landing / "support_tickets__new.csv", [row("support_tickets", ticket_id="t-new")])

    verdicts = {verdict.report.file_name: verdict for verdict in dry_run(landing, warehouse)}

    new = verdicts["support_tickets__new.csv"].report
    assert (new.status, new.rows_loaded) == ("loaded", 1), new.message
    already = [name for name, verdict in verdicts.items() if name != "support_tickets__new.csv"]
    assert {verdicts[name].report.status for name in already} == {"skipped_already_loaded"}
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert sorted(settings.lake_dir(warehouse).rglob("*")) == parts  # nothing written there


def _seatshift_check(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SEATSHIFT), "check", "--landing", str(landing), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        env=refresh_environment(),
        timeout=600,
    )


def test_the_command_prints_every_file_exits_non_zero_on_a_rejected_file_and_changes_nothing(
    hostile, tmp_path
):
    before = _fingerprint(hostile)
    warehouse = tmp_path / "none" / "seatshift.duckdb"
    completed = _seatshift_check(hostile, warehouse)

    assert completed.returncode == 1, completed.stderr
    for name in before:  # every landing file; notes (`_...`) are not landing files
        assert (name in completed.stdout) != name.startswith("_"), name
    assert "rejected: accounts__no_segment.csv" in completed.stderr
    assert "quarantined by rule:" in completed.stdout
    assert "2025-01..2026-02" in completed.stdout  # the months the usage covers
    assert _fingerprint(hostile) == before
    assert not warehouse.parent.exists()

    completed = _seatshift_check(shutil.copytree(SEEDS_DIR, tmp_path / "clean"), warehouse)
    assert completed.returncode == 0, completed.stderr
    assert "0 file(s) would be rejected" in completed.stdout
    assert "no file of the required export" not in completed.stdout

    # A first load that lacks exports said nothing of them (an empty folder: "0 file(s)" and
    # exit 0). It names them; the refresh builds without them, so this is a note, not a refusal.
    (tmp_path / "accounts_only").mkdir()
    shutil.copy(SEEDS_DIR / "accounts__crm.csv", tmp_path / "accounts_only")
    completed = _seatshift_check(tmp_path / "accounts_only", warehouse)
    assert completed.returncode == 0, completed.stderr
    assert (
        "note: no file of the required export(s) plans, subscriptions, seat_events, usage_events, "
        "invoices, invoice_lines: a first refresh builds without them"
    ) in completed.stdout


def test_a_relative_path_on_the_command_line_is_the_current_folders(tmp_path):
    # `seatshift generate --out land` then `seatshift check --landing land`, run in the same
    # folder: --out was the current folder's, --landing the repository's ("does not exist")
    shutil.copytree(SEEDS_DIR, tmp_path / "land")
    run = subprocess.run(
        [str(SEATSHIFT), "check", "--landing", "land", "--warehouse", "w/none.duckdb"],
        capture_output=True, text=True, env=refresh_environment(), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "would be rejected" in run.stdout and "does not exist" not in run.stderr
    assert settings.from_here("land") == Path.cwd() / "land"
    assert settings.from_here(None) is None
