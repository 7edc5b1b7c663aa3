"""The project's own stages, run as they run in production: generate, `seatshift refresh`, a day.

Stage times come from the run's Dagster event log (SQLite under `$DAGSTER_HOME/history/runs/`),
the slowest dbt models from dbt's log beside the warehouse; nothing here re-implements a stage.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bench.measure import Measured, run_measured
from orchestration.lib import settings
from orchestration.lib.generator import generate
from orchestration.lib.generator.usage import USAGE_COLUMNS

# bench/bench_generate.py's company: 1,450 accounts x 24 months x 1 event per seat-day is about
# 10M usage events; accounts scale linearly with the events asked for.
EVENTS_PER_ACCOUNT = 10_000_000 / 1450
MONTHS = 24
# The period ends before today, so no event lies in the future for the plausibility rules, and
# the bench's extra day (the first of the next month) is in the past too.
START = "2024-11"
SEED = 7
USAGE_FILE = re.compile(r"^usage_events__\d{4}-\d{2}\.(csv|parquet)$")
LATE_DAYS = 10
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DBT_MODEL_LINE = re.compile(
    r"\d+ of \d+ OK created sql (?:\w+ )?model (?P<relation>[\w.]+)"
    r"\s*\.*\s*\[.*? in (?P<s>[\d.]+)s\]"
)
RUN_ID = re.compile(r"\(run (?P<run_id>[0-9a-f-]{36})\)")


@dataclass
class Generated:
    seconds: float
    events: int  # distinct usage events
    usage_rows: int  # with the generator's late and re-delivered copies
    accounts: int
    usage_files: list[Path]
    usage_bytes: int
    last_day: dt.date


@dataclass
class Refresh:
    measured: Measured
    run_id: str | None
    stages: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    dbt_models: dict[str, float] = field(default_factory=dict)
    full_parse: bool = False
    report: str = ""


BUILD_COPY = re.compile(r"build: copied ([\d,]+) bytes .*\(([\d,]+) bytes of raw rows\)")


def build_copy(report: str) -> tuple[int, int] | None:
    """(bytes the build copied, bytes of lake parts it read in place) from a refresh's report."""
    found = BUILD_COPY.search(report)
    if found is None:
        return (0, 0) if "build: copied 0 bytes" in report else None
    copied, listed = (int(group.replace(",", "")) for group in found.groups())
    return copied, listed


def accounts_for(events: int) -> int:
    return max(2, round(events / EVENTS_PER_ACCOUNT))


def generate_company(
    landing: Path, events: int, fmt: str, *, accounts: int | None = None
) -> Generated:
    """The bench's company of about `events` usage events (or of `accounts` accounts)."""
    accounts = accounts or accounts_for(events)
    started = time.perf_counter()
    manifest = generate(landing, accounts=accounts, months=MONTHS, start=START, seed=SEED, fmt=fmt)
    seconds = time.perf_counter() - started
    files = usage_files(landing)
    end = dt.date.fromisoformat(manifest["period"]["end"][:10])
    return Generated(
        seconds=seconds,
        events=manifest["usage_events_distinct"],
        usage_rows=manifest["row_counts"]["usage_events"],
        accounts=accounts,
        usage_files=files,
        usage_bytes=sum(path.stat().st_size for path in files),
        last_day=end - dt.timedelta(days=1),
    )


def usage_files(landing: Path) -> list[Path]:
    """The monthly usage files: the generator's 10-row backfill file of deliberately bad rows,
    which the loader quarantines whole, is left to the refresh."""
    return sorted(path for path in landing.iterdir() if USAGE_FILE.match(path.name))


def _seatshift_command() -> list[str]:
    script = Path(sys.executable).with_name("seatshift")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]


class RefreshFailed(RuntimeError):
    """A refresh that exited non-zero: the figure is its time and its one-line reason."""

    def __init__(self, measured: Measured, text: str) -> None:
        self.measured = measured
        lines = [line for line in text.splitlines() if line.startswith("refresh failed")]
        self.reason = lines[-1] if lines else f"exit code {measured.exit_code}"
        super().__init__(f"seatshift refresh failed ({measured.exit_code}):\n{text[-3000:]}")


def run_refresh(landing: Path, warehouse: Path, dagster_home: Path, output: Path) -> Refresh:
    """`seatshift refresh` in a process of its own, with its own Dagster instance."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "SEATSHIFT_LANDING": str(landing),
        "SEATSHIFT_WAREHOUSE": str(warehouse),
        # the full refresh is a first build: it makes its dbt docs page, never reuses one this
        # checkout made for another warehouse of the same inputs (a later refresh of the same
        # warehouse still keeps its own page, as every refresh does)
        "SEATSHIFT_DBT_DOCS_PAGES": "off",
    }
    dagster_home.mkdir(parents=True, exist_ok=True)
    command = [*_seatshift_command(), "refresh", "--landing", str(landing)]
    command += ["--warehouse", str(warehouse)]
    measured = run_measured(command, env=env, output=output, cwd=settings.REPO_ROOT)
    text = output.read_text(errors="replace")
    if measured.exit_code != 0:
        raise RefreshFailed(measured, text)
    match = RUN_ID.search(text)
    run_id = match["run_id"] if match else None
    refresh = Refresh(measured=measured, run_id=run_id, report=text)
    if run_id:
        refresh.stages, refresh.steps = stage_times(
            dagster_home / "history" / "runs" / f"{run_id}.db", measured.started_at
        )
    log = settings.refresh_log_path(warehouse)
    if log.exists():
        log_text = ANSI.sub("", log.read_text(errors="replace"))
        refresh.dbt_models = dbt_model_seconds(log_text)
        refresh.full_parse = "Unable to do partial parsing" in log_text
    return refresh


def stage_group(step_key: str) -> str:
    if step_key.endswith("_matches_expectations"):
        return "checks"
    if step_key == "dbt_models":
        return "dbt"
    if step_key == "audit__refresh_log":
        return "publish"
    return "load"  # the raw assets and the landing inventory


def _utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def stage_times(
    run_db: Path, process_started_at: float
) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per stage and per step of one run, from its event log.

    `startup` is process start to the run's first event (imports, definitions, the dbt
    manifest, the instance); `planning` the run's *_PLANNED events before PIPELINE_START (one
    per asset and check, each a SQLite write); `to first step` what is left until it starts.
    """
    connection = sqlite3.connect(f"file:{run_db}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "select dagster_event_type, step_key, timestamp from event_logs order by id"
        ).fetchall()
    finally:
        connection.close()
    first_event = _utc(rows[0][2])
    run_start = next((_utc(ts) for kind, _, ts in rows if kind == "PIPELINE_START"), first_event)
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    for kind, step_key, timestamp in rows:
        if kind == "STEP_START":
            starts[step_key] = _utc(timestamp)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step_key in starts:
            steps[step_key] = _utc(timestamp) - starts[step_key]
    first_step = min(starts.values(), default=run_start)
    stages = {
        "startup": first_event - process_started_at,
        "planning": run_start - first_event,
        "to first step": first_step - run_start,
        "load": 0.0,
        "checks": 0.0,
        "dbt": 0.0,
        "publish": 0.0,
    }
    for step_key, seconds in steps.items():
        stages[stage_group(step_key)] += seconds
    return stages, steps


def dbt_model_seconds(log_text: str) -> dict[str, float]:
    """Seconds per model (relation name) from dbt's log: `N of M OK created sql ... model`."""
    return {match["relation"]: float(match["s"]) for match in DBT_MODEL_LINE.finditer(log_text)}


def loaded_rows(report: str, file_name: str) -> tuple[int, int, int] | None:
    """(read, loaded, quarantined) of one file from the refresh's printed load report."""
    for line in report.splitlines():
        parts = line.split()
        if parts and parts[0] == file_name and len(parts) >= 6:
            try:
                return int(parts[2]), int(parts[3]), int(parts[5])
            except ValueError:
                return None
    return None


@dataclass
class NewDay:
    day: dt.date
    events: int
    late_events: int
    correction_of: str | None
    files: list[str]


def _reader(fmt: str, path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if fmt == "parquet":
        return f"read_parquet('{quoted}')"
    return f"read_csv('{quoted}', header = true, all_varchar = true)"


def _copy_options(fmt: str) -> str:
    return "format parquet, compression zstd" if fmt == "parquet" else "format csv, header true"


def add_one_day(landing: Path, last_day: dt.date, events: int, fmt: str) -> NewDay:
    """Drops the next day's usage export into the landing folder, shaped like the generator's.

    The day's events are the last week's events resampled (about events/365 of them, at the same
    times of day, under new ids); a few more are 10 days late; and the entitlement service sends
    a `correction` voiding the latest loaded `seat_removed` event (the export contract: a correction
    voids the event it names), which restates seats, billing and the marts behind them.
    """
    day = last_day + dt.timedelta(days=1)
    wanted = max(20, round(events / 365))
    late = max(5, wanted // 100)
    last_file = usage_files(landing)[-1]
    label = day.isoformat()
    usage_out = landing / f"usage_events__{label}.{fmt}"
    seats_out = landing / f"seat_events__{label}.{fmt}"
    if fmt == "parquet":
        occurred = "timezone('UTC', occurred_at) as occurred_at"
    else:
        occurred = "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at"
    columns = ", ".join(occurred if name == "occurred_at" else name for name in USAGE_COLUMNS)
    connection = duckdb.connect()
    try:
        connection.execute("set timezone = 'UTC'")
        connection.execute(
            f"""
            create table source as
            select * replace (
                cast(cast(occurred_at as timestamptz) as timestamp) as occurred_at
            )
            from {_reader(fmt, last_file)}
            """
        )
        connection.execute(
            f"""
            create table new_day as
            with

            last_week as (
                select * from source
                where occurred_at >= cast(? as timestamp) - interval 6 day
            ),

            picked as (
                select *, row_number() over (order by hash(event_id), event_id) as pick
                from last_week
                qualify pick <= ?
            )

            select
                * exclude (pick, event_id, occurred_at),
                'ue_bench_{label.replace("-", "")}_' || lpad(pick::varchar, 7, '0') as event_id,
                cast(? as timestamp) - to_days(case when pick <= ? then {LATE_DAYS} else 0 end)
                    + (occurred_at - date_trunc('day', occurred_at)) as occurred_at
            from picked
            """,
            [last_day, wanted + late, day, late],
        )
        count = connection.execute("select count(*) from new_day").fetchall()[0][0]
        quoted = str(usage_out).replace("'", "''")
        connection.execute(
            f"copy (select {columns} from new_day order by occurred_at, event_id) "
            f"to '{quoted}' ({_copy_options(fmt)})"
        )
        correction_of = _write_correction(connection, landing, seats_out, day, fmt)
    finally:
        connection.close()
    files = [usage_out.name] + ([seats_out.name] if correction_of else [])
    return NewDay(
        day=day,
        events=count - late,
        late_events=late,
        correction_of=correction_of,
        files=files,
    )


def _write_correction(
    connection: duckdb.DuckDBPyConnection, landing: Path, out: Path, day: dt.date, fmt: str
) -> str | None:
    ledgers = sorted(landing.glob(f"seat_events__*.{fmt}"))
    if not ledgers:
        return None
    sources = " union all by name ".join(f"select * from {_reader(fmt, p)}" for p in ledgers)
    connection.execute(f"create table ledger as {sources}")
    target = connection.execute(
        """
        select event_id from ledger
        where event_type = 'seat_removed'
            and event_id not in (
                select corrects_event_id from ledger where corrects_event_id is not null
            )
        order by recorded_at desc, event_id desc
        limit 1
        """
    ).fetchall()
    if not target:
        return None
    event_id = target[0][0]
    moment = dt.datetime.combine(day, dt.time(12))
    when = moment.strftime("%Y-%m-%dT%H:%M:%SZ") if fmt != "parquet" else None
    stamp = f"'{when}'" if when else f"timezone('UTC', timestamp '{moment.isoformat(sep=' ')}')"
    quoted = str(out).replace("'", "''")
    connection.execute(
        f"""
        copy (
            select * replace (
                'se_bench_{day.strftime("%Y%m%d")}_0001' as event_id,
                'correction' as event_type,
                cast(null as varchar) as seat_role,
                cast(null as varchar) as user_id,
                {stamp} as effective_at,
                {stamp} as recorded_at,
                event_id as corrects_event_id,
                'admin' as source
            )
            from ledger where event_id = '{event_id.replace("'", "''")}'
            limit 1
        ) to '{quoted}' ({_copy_options(fmt)})
        """
    )
    return event_id


# The floor of a one-day refresh: the same day (late events and a correction included) added to
# a company so small that its data costs next to nothing, so its one-day refresh is what any
# one-day refresh of this project costs at least: the Dagster run, the new files' load and
# checks, one `dbt build` of every model and data test, the publish.
FLOOR_ACCOUNTS = 20


@dataclass
class OneDayFloor:
    generated: Generated
    day: NewDay
    refresh: Refresh


def one_day_floor(work: Path, fmt: str) -> OneDayFloor:
    """A FLOOR_ACCOUNTS-account company of the bench's months and seed, refreshed in full, then
    given the bench's next day and refreshed again: that second refresh is the floor."""
    landing, dagster_home = work / "landing", work / "dagster_home"
    warehouse = work / "warehouse" / "seatshift.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    generated = generate_company(landing, 0, fmt, accounts=FLOOR_ACCOUNTS)
    run_refresh(landing, warehouse, dagster_home, work / "refresh-full.out")
    day = add_one_day(landing, generated.last_day, generated.events, fmt)
    refresh = run_refresh(landing, warehouse, dagster_home, work / "refresh-incremental.out")
    return OneDayFloor(generated=generated, day=day, refresh=refresh)
