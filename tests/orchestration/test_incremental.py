"""A daily refresh builds incrementally and gives exactly the marts of a full rebuild.

The sample's warehouse receives the next day: the day's usage events, events 10 and 34 days late
(inside the contract's 35-day window, so they restate closed months) and a seat `correction` that
voids an event loaded long ago (bench/stages.add_one_day, the bench's own one-day increment). The
incremental refresh, then `--full-refresh` of the same warehouse, must agree row for row on every
raw and mart table; and a refresh with nothing new runs no dbt build at all. The daily refresh is
also the lake's second refresh: it copies the warehouse file and no part, and leaves every part
the first build listed as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bench.stages import add_one_day
from orchestration.lib import settings
from orchestration.lib.lake import copy_warehouse
from tests.conftest import REPO_ROOT, copy_seeds, run_refresh
from tests.orchestration.test_lake import _identity, _parts
from tests.orchestration.test_refresh import _query, _table_fingerprints

# `make test-faults`: a new day with late events and a correction, over three refreshes.
pytestmark = pytest.mark.faults

LATE_DAYS = 34


def _late_event(warehouse, last_day: dt.date) -> tuple[str, dt.date, str]:
    """One human event LATE_DAYS before the last day, for an account active then."""
    occurred = dt.datetime.combine(last_day - dt.timedelta(days=LATE_DAYS), dt.time(9, 30))
    (account_id, user_id), *_ = _query(
        warehouse,
        """
        select account_id, user_id from telemetry.usage_events
        where actor_type = 'human' and cast(occurred_at as date) = ?
        order by account_id, user_id limit 1
        """,
        [occurred.date()],
    )
    line = (
        f"ue_late_{LATE_DAYS}d,{account_id},human,{user_id},,"
        f"{occurred:%Y-%m-%dT%H:%M:%SZ},chat,small,120,30,5,\n"
    )
    return account_id, occurred.date().replace(day=1), line


def _rollup(warehouse, account_id: str, month: dt.date) -> tuple:
    return _query(
        warehouse,
        """
        select tasks, input_tokens from marts.fct_account_month
        where account_id = ? and month = ?
        """,
        [account_id, month],
    )[0]


def test_a_new_day_with_late_events_and_a_correction_builds_incrementally_as_a_full_rebuild(
    sample_warehouse, tmp_path
):
    warehouse = tmp_path / "warehouse" / "seatshift.duckdb"
    warehouse.parent.mkdir()
    copy_warehouse(sample_warehouse, warehouse)
    # Its dbt docs page too, as published beside it: the daily build's code, vars and relations
    # are the sample build's, so it keeps that page rather than making the same one again.
    shutil.copytree(settings.dbt_docs_dir(sample_warehouse), settings.dbt_docs_dir(warehouse))
    docs_page = settings.dbt_docs_dir(warehouse) / settings.DBT_DOCS_INDEX
    sample_page = docs_page.read_bytes()
    landing = copy_seeds(tmp_path / "landing")
    (last_moment,) = _query(warehouse, "select max(occurred_at) from telemetry.usage_events")[0]
    last_day = last_moment.date()

    day = add_one_day(landing, last_day, events=40 * 365, fmt="csv")
    assert day.correction_of is not None and day.late_events >= 5
    account_id, late_month, line = _late_event(warehouse, last_day)
    header = (landing / "usage_events__2026-02.csv").read_text().splitlines()[0]
    (landing / f"usage_events__{day.day}-late.csv").write_text(header + "\n" + line)
    tasks_before, tokens_before = _rollup(warehouse, account_id, late_month)
    (voided_before,) = _query(
        warehouse,
        "select is_voided from marts.fct_seat_ledger where event_id = ?",
        [day.correction_of],
    )[0]
    assert voided_before is False
    parts_before = {path: _identity(path) for path, _, _ in _parts(warehouse)}
    file_size = warehouse.stat().st_size

    daily = run_refresh(landing, warehouse)
    assert daily.returncode == 0, daily.stdout + daily.stderr
    # The lake: the build copied the warehouse file, its one copy, and no part; every part the
    # sample's build listed is still listed, untouched (not copied, not rewritten), and the new
    # parts, in this warehouse's lake, hold the day's rows.
    (line,) = [line for line in daily.stdout.splitlines() if line.startswith("build: copied")]
    copied = int(re.search(r"copied ([\d,]+) bytes", line).group(1).replace(",", ""))
    assert copied == file_size, line
    parts_after = _parts(warehouse)
    assert {path: _identity(path) for path in parts_before} == parts_before
    new_parts = [(path, export) for path, export, _ in parts_after if path not in parts_before]
    assert {export for _, export in new_parts} == {"usage_events", "seat_events"}, new_parts
    assert all(Path(path).is_relative_to(settings.lake_dir(warehouse)) for path, _ in new_parts)
    dbt_log = settings.refresh_log_path(warehouse).read_text()
    # The usage rollup ran as an increment (the months the new rows touch), not a rebuild.
    assert "incremental model intermediate.int_usage_events_rolled_up_to_account_month" in dbt_log
    # The late events restated their closed month; the correction voided its event.
    assert _rollup(warehouse, account_id, late_month) == (tasks_before + 5, tokens_before + 120)
    assert _query(
        warehouse,
        "select is_voided from marts.fct_seat_ledger where event_id = ?",
        [day.correction_of],
    ) == [(True,)]
    # One day of March is loaded and checked, but March is in progress: every monthly mart still
    # ends at February, the last complete month (a day of usage read as a month fell by 9/10ths).
    (data_as_of, as_of_month), *_ = _query(
        warehouse, "select data_as_of, as_of_month from marts.rpt_data_as_of"
    )
    assert data_as_of.date() == day.day and as_of_month == last_day.replace(day=1)
    for mart in ("fct_account_month", "fct_migration_triggers", "fct_shadow_invoice"):
        assert _query(warehouse, f"select max(month) from marts.{mart}") == [(as_of_month,)]
    incremental = _table_fingerprints(warehouse)
    assert "dbt docs kept:" in dbt_log and ", kept (the same project code" in daily.stdout
    assert docs_page.read_bytes() == sample_page

    full = run_refresh(landing, warehouse, "--full-refresh")
    assert full.returncode == 0, full.stdout + full.stderr
    dbt_log = settings.refresh_log_path(warehouse).read_text()
    # The same warehouse path as the daily refresh: dbt reuses its parse ("profile has changed"
    # would mean a full parse of the project, about 10 s).
    assert "Unable to do partial parsing" not in dbt_log
    (refresh_id,) = _query(warehouse, "select max(refresh_id) from audit.refresh_log")[0]
    # The run's dbt artifacts went with it; its log is the refresh's log file.
    assert not list((REPO_ROOT / "dbt_project" / "target").glob(f"refresh-{refresh_id}*"))
    rebuilt = _table_fingerprints(warehouse)
    # --full-refresh remakes everything, its docs page included.
    assert "dbt docs kept:" not in dbt_log and docs_page.read_bytes() != sample_page
    assert rebuilt.keys() == incremental.keys()
    differing = sorted(name for name in rebuilt if rebuilt[name] != incremental[name])
    assert differing == []

    # Nothing new: no dbt build runs, and nothing changes.
    again = run_refresh(landing, warehouse)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "dbt: nothing new to build" in again.stdout
    assert _table_fingerprints(warehouse) == rebuilt
    builds = _query(
        warehouse,
        "select refresh_id, dbt_args from audit.dbt_builds order by built_at",
    )
    published = [
        row[0]
        for row in _query(
            warehouse,
            "select refresh_id from audit.refresh_log where status = 'published' order by 1",
        )
    ]
    # The sample's build, the daily one, the full rebuild; the last refresh built nothing.
    assert len(builds) == 3 and len(published) == 4
    assert "--full-refresh" in builds[-1][1]
    assert published[-1] not in {row[0] for row in builds}
