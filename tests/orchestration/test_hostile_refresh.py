"""End to end, `seatshift refresh` with hostile files: wrong clocks, a UTF-16 file, a
broken JSON line. Each ends well, and no wrong clock moves the data's as-of time."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.lake import copy_warehouse
from tests.conftest import SEEDS_DIR, run_refresh
from tests.orchestration._reader import polling_reader

TIME_COLUMNS = {
    "usage_events": "occurred_at",
    "seat_events": "effective_at",
    "invoices": "issued_at",
}


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def test_the_samples_injected_rows_are_quarantined_exactly_and_the_as_of_time_ignores_them(
    sample_warehouse,
):
    manifest = json.loads((SEEDS_DIR / "_manifest.json").read_text(encoding="utf-8"))
    bad = {(row["file"], row["row_number"]): row["rule"] for row in manifest["bad_rows"]}
    assert {"implausible_time"} <= set(bad.values())  # a usage event in 2099, a seat one in 1970

    quarantined = _query(
        sample_warehouse, "select file_name, row_number, rule from audit.quarantine"
    )

    assert {(file, number): rule for file, number, rule in quarantined} == bad
    # The as-of time, independently: the latest usage, seat or invoice time of the files' rows
    # the generator did not break (the as-of time: the latest occurred_at, effective_at, issued_at).
    latest = max(
        _utc(row[column])
        for path in sorted(SEEDS_DIR.glob("*.csv"))
        if (column := TIME_COLUMNS.get(path.name.split("__")[0]))
        for number, row in enumerate(csv.DictReader(path.open(encoding="utf-8")), start=1)
        if (path.name, number) not in bad
    )
    [(as_of,)] = _query(sample_warehouse, "select data_as_of from marts.rpt_data_as_of")
    assert as_of == latest.replace(tzinfo=None)
    assert as_of.year == 2026  # not 2099


@pytest.mark.faults  # `make test-faults`: two refreshes of hostile files
def test_hostile_files_end_well_and_the_as_of_time_never_runs_ahead_of_the_refresh(
    sample_warehouse, sample_landing, tmp_path
):
    warehouse = tmp_path / "seatshift.duckdb"
    copy_warehouse(sample_warehouse, warehouse)
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    template = next(csv.DictReader((SEEDS_DIR / "usage_events__2026-01.csv").open()))
    columns = list(template)

    def event(event_id: str, occurred_at: str) -> dict[str, str]:
        return {**template, "event_id": event_id, "occurred_at": occurred_at}

    def text(rows: list[dict[str, str]]) -> str:
        lines = [",".join(columns)] + [",".join(row[name] for name in columns) for row in rows]
        return "\n".join(lines) + "\n"

    # A plausible time just ahead of now (clock skew): loaded, but the as-of must not follow it.
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (landing / "usage_events__clocks.csv").write_text(
        text(
            [
                event("h_2099", "2099-02-10T10:00:00Z"),
                event("h_1970", "1970-01-01T00:00:00Z"),
                event("h_ahead", ahead),
            ]
        )
    )
    (landing / "usage_events__excel.csv").write_bytes(
        text(
            [event("h_utf16_1", "2026-02-27T10:00:00Z"), event("h_utf16_2", "2026-02-27T11:00:00Z")]
        ).encode("utf-16")
    )
    (landing / "usage_events__stream.jsonl").write_text(
        json.dumps(event("h_json_1", "2026-02-27T12:00:00Z"))
        + "\n"
        + '{"event_id": "h_json_2", "occurred_at": \n'
    )

    with polling_reader(warehouse) as reader:  # the dashboard reads on, throughout
        run = run_refresh(landing, warehouse)

    assert run.returncode == 0, run.stdout + run.stderr
    assert reader.reads > 10 and reader.errors == [], reader.errors[:5]
    report = _query(
        warehouse,
        """select file_name, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined
        from audit.load_report where file_name like 'usage_events__%' and status = 'loaded'
            and refresh_id = (select max(refresh_id) from audit.load_report)
        order by file_name""",
    )
    assert report == [
        ("usage_events__clocks.csv", "loaded", 3, 1, 0, 2),
        ("usage_events__excel.csv", "loaded", 2, 2, 0, 0),
        ("usage_events__stream.jsonl", "loaded", 2, 1, 0, 1),
    ]
    rules = _query(
        warehouse,
        """select file_name, row_number, rule from audit.quarantine
        where file_name in ('usage_events__clocks.csv', 'usage_events__stream.jsonl')
        order by all""",
    )
    assert rules == [
        ("usage_events__clocks.csv", 1, "implausible_time"),
        ("usage_events__clocks.csv", 2, "implausible_time"),
        ("usage_events__stream.jsonl", 2, "malformed_row"),
    ]
    [(as_of, last_loaded_at)] = _query(
        warehouse, "select data_as_of, last_loaded_at from marts.rpt_data_as_of"
    )
    [(finished_at,)] = _query(
        warehouse, "select finished_at from audit.refresh_log order by finished_at desc limit 1"
    )
    # The latest business time is the event 12 hours ahead; the as-of stops at the last load.
    assert as_of == last_loaded_at
    assert as_of <= finished_at < _utc(ahead).replace(tzinfo=None)
