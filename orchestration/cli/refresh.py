"""`seatshift refresh`: load, validate, build, audit and publish, by the very Dagster job the
schedule and the sensor run, in this process, so the command line sees what production does."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import threading
import time
from pathlib import Path

from orchestration.cli.progress import say_progress
from orchestration.lib import settings

REFRESH_JOB = "refresh_warehouse"
# Dagster's console log goes to the run's event log (the Dagster UI); the command prints the
# load report and one line of outcome, which is what an operator reads.
# Dagster's console logger stays quiet: a failed step's error, traceback and event chain went to
# the terminal (a hundred lines and more) before the command's own one-line reason. The command
# prints that reason; the run's events, tracebacks included, stay in the Dagster instance.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
REPORT_COLUMNS = (
    ("file_name", "file"),
    ("status", "status"),
    ("rows_read", "read"),
    ("rows_loaded", "loaded"),
    ("rows_duplicate", "duplicate"),
    ("rows_quarantined", "quarantined"),
    ("message", "message"),
)


def register(commands) -> None:
    refresh = commands.add_parser("refresh", help="load, validate, build, audit and publish")
    refresh.add_argument("--landing", help=f"landing folder (default {settings.DEFAULT_LANDING})")
    refresh.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    refresh.add_argument(
        "--vars", help="dbt vars as YAML text or a YAML file, e.g. '{proration_rule: day}'"
    )
    refresh.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental dbt model (the usage rollup) from all loaded rows",
    )
    refresh.add_argument(
        "--rebuild-months",
        help="re-aggregate these months of the usage rollup, e.g. 2026-01,2026-02",
    )
    refresh.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where dbt builds: duckdb (default) or spark (dbt-spark over the lake's parts; "
        "needs the spark extra and Java); the marts are published into the same DuckDB file",
    )
    refresh.set_defaults(handler=run)


def _format_report(files: list[dict]) -> str:
    if not files:
        return "no files in the landing folder"
    rows = [
        [str(file.get(key) if file.get(key) is not None else "") for key, _ in REPORT_COLUMNS]
        for file in files
    ]
    headers = [title for _, title in REPORT_COLUMNS]
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]
    widths[-1] = len(headers[-1])  # the message runs on; don't pad every row to the longest
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def _file_reports(result) -> list[dict]:
    files: list[dict] = []
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "files" in metadata:
            files.extend(metadata["files"].value)
    return files


def _build_copy(result) -> str | None:
    """What the build copied to start: the warehouse file, and no event part of the lake."""
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "build_copied_bytes" in metadata:
            values = {key: metadata[key].value for key in metadata}
            if not values["build_copied_bytes"]:
                return "build: copied 0 bytes (no published warehouse yet: a new build)"
            return (
                f"build: copied {values['build_copied_bytes']:,} bytes (the published warehouse "
                f"file); the {values['lake_parts_listed']:,} lake part(s) it lists "
                f"({values['lake_part_bytes_listed']:,} bytes of raw rows) are read in place"
            )
    return None


def _unchanged_build(result) -> str | None:
    """The refresh whose dbt build still stands, when this one had nothing new to build."""
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "dbt" in metadata and metadata["dbt"].value == "unchanged":
            return metadata["built_by_refresh"].value
    return None


def _docs_kept(log_path: Path) -> bool:
    """The dbt step said it kept the published docs page (transform.py, `dbt docs kept:`)."""
    try:
        return any(line.startswith("dbt docs kept:") for line in log_path.open(errors="replace"))
    except OSError:
        return False


def _failure_reason(result, published: Path) -> str:
    from orchestration.lib.warehouse import read_refresh_status

    # A blocking check that failed is the reason its step failed: its own words come first (the
    # step's error only says "1 blocking asset check failed").
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data  # an AssetCheckEvaluation
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                check = evaluation.asset_check_key.to_user_string()
                return f"check {check} failed: {evaluation.description}"
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                message = data.user_failure_data.description  # our own dg.Failure: already plain
            else:
                error = data.error
                while error is not None and error.cause is not None:  # the root cause speaks
                    error = error.cause
                message = f"{error.cls_name}: {error.message}" if error else ""
            if message.strip():
                return f"{event.step_key}: {message.strip().splitlines()[0]}"
    status = read_refresh_status(published)
    if status and status.get("status") == "failed" and status.get("reason"):
        return status["reason"]
    for event in result.all_events:
        if event.is_failure and event.message:
            return event.message.strip().splitlines()[0]
    return "the refresh stopped before publish"


def _ran_out_of_disk(result, reason: str) -> bool:
    """ENOSPC anywhere: the copy of the warehouse, DuckDB's writes in the load, dbt's."""
    texts = [reason]
    for event in result.all_events:
        texts.append(event.message or "")
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            texts.append(error.message or "")
            error = error.cause
    return any("no space left on device" in text.lower() for text in texts)


def unknown_settings_notes(published: Path) -> list[str]:
    """A line for each name passed with --vars (or SEATSHIFT_DBT_VARS) that is no setting of the
    project, with the setting it likely misspells: the build records it in rpt_settings and goes
    on with the default, so a typo would otherwise change nothing without a word."""
    import difflib

    import duckdb

    try:
        with duckdb.connect(str(published), read_only=True) as conn:
            rows = conn.execute(
                "select name, is_known_setting from marts.rpt_settings order by setting_position"
            ).fetchall()
    except duckdb.Error:
        return []
    known = [name for name, is_known in rows if is_known]
    notes = []
    for name, is_known in rows:
        if is_known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        notes.append(
            f"note: {name} is not a setting of this project{hint}: it changed nothing "
            "(marts.rpt_settings lists the settings in force)"
        )
    return notes


def _refresh_run_config(args: argparse.Namespace) -> dict:
    """The Launchpad's config of the refresh job, from the command's flags."""
    dbt_config = {}
    if args.full_refresh:
        dbt_config["full_refresh"] = True
    if args.rebuild_months:
        dbt_config["rebuild_months"] = [m.strip() for m in args.rebuild_months.split(",") if m]
    if getattr(args, "engine", "duckdb") != "duckdb":
        dbt_config["engine"] = args.engine
    config = dict(QUIET_RUN_CONFIG)
    if dbt_config:
        config["ops"] = {"dbt_models": {"config": dbt_config}}
    return config


def _stage_of(step_key: str) -> str:
    """What a step of the refresh job does, in an operator's words."""
    if step_key == "landing__inventory":
        return "reading the landing folder"
    if step_key == "dbt_models":
        return "building the dbt models and running their tests"
    if step_key == "audit__refresh_log":
        return "publishing"
    if step_key.endswith("_matches_expectations"):
        relation = step_key.removesuffix("_matches_expectations").replace("__", ".", 1)
        return f"checking {relation} (Great Expectations)"
    return f"loading {step_key.replace('__', '.', 1)}"


class _StageProgress(threading.Thread):
    """Says each step of this refresh's Dagster run as it starts, read from the run's event log
    in the instance (the run is this command's: tagged with its warehouse, created after it
    started). Operators saw nothing for minutes; the load report still follows at the end."""

    def __init__(self, instance, published: Path, began: float) -> None:
        super().__init__(name="refresh-progress", daemon=True)
        self._instance = instance
        self._published = published
        self._began = began
        self._created_after = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)
        self._report_new_steps()  # the last steps, if the run ended between two looks

    def run(self) -> None:
        while not self._done.wait(0.5):
            with contextlib.suppress(Exception):  # progress only: never fail a refresh for it
                self._report_new_steps()

    _run_id: str | None = None
    _seen: frozenset = frozenset()

    def _report_new_steps(self) -> None:
        import dagster as dg

        if self._run_id is None:
            runs = self._instance.get_runs(
                filters=dg.RunsFilter(
                    job_name=REFRESH_JOB,
                    tags={settings.WAREHOUSE_RUN_TAG: str(self._published)},
                    created_after=self._created_after,
                ),
                limit=1,
            )
            if not runs:
                return
            self._run_id = runs[0].run_id
        records = self._instance.get_records_for_run(
            self._run_id, of_type=dg.DagsterEventType.STEP_START
        ).records
        for record in records:
            step_key = record.event_log_entry.step_key
            if step_key and step_key not in self._seen:
                self._seen = self._seen | {step_key}
                say_progress(self._began, _stage_of(step_key))


def run(args: argparse.Namespace) -> int:
    landing = settings.landing_dir(settings.from_here(args.landing))
    published = settings.warehouse_path(settings.from_here(args.warehouse))
    dbt_vars = None
    if args.vars:
        vars_path = Path(args.vars)
        dbt_vars = vars_path.read_text() if vars_path.is_file() else args.vars
    # The definitions (resources, job tags) read these when they load, below.
    settings.configure(landing=landing, warehouse=published, dbt_vars=dbt_vars)
    if not landing.is_dir():
        why = "is not a folder" if landing.exists() else "does not exist"
        print(f"refresh failed: the landing folder {landing} {why}", file=sys.stderr)
        return 2
    if args.rebuild_months:
        from orchestration.lib.dbt_project import month_starts

        try:
            month_starts([month.strip() for month in args.rebuild_months.split(",") if month])
        except ValueError as error:
            print(f"refresh refused: --rebuild-months: {error}; nothing ran", file=sys.stderr)
            return 2

    began, started_at = time.monotonic(), time.time()
    say_progress(began, f"refresh of {published} from {landing}: loading the definitions")
    from orchestration.lib import warehouse

    if warehouse.refresh_is_running(published):
        print(f"another refresh of {published} is running; waiting for it to end", flush=True)
    # Runs from the command line are recorded in the same instance as the daemon's.
    home = settings.dagster_home()

    import dagster as dg

    try:
        from orchestration.lib.dbt_project import ensure_manifest

        ensure_manifest()
        from orchestration.definitions import defs

        instance = dg.DagsterInstance.from_config(str(home))
        job = defs.resolve_job_def(REFRESH_JOB)
        log_path = settings.refresh_log_path(published)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # dagster-dbt echoes dbt's log to stdout: into a file, so the load report stays legible.
        say_progress(began, "definitions loaded; planning the run")
        progress = _StageProgress(instance, published, began)
        progress.start()
        try:
            with open(log_path, "w") as log_file, contextlib.redirect_stdout(log_file):
                result = job.execute_in_process(
                    instance=instance, raise_on_error=False, run_config=_refresh_run_config(args)
                )
        finally:
            progress.stop()
    except Exception as error:  # the definitions did not load: nothing ran, nothing changed
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"refresh failed: {type(error).__name__}: {first_line}", file=sys.stderr)
        return 1
    files = _file_reports(result)
    # A run that stopped before its load reports no file either: not an empty landing folder.
    print(_format_report(files) if files or result.success else "no file loaded")
    copied = _build_copy(result)
    if copied is not None:
        print(copied)
    built_by = _unchanged_build(result)
    if built_by is not None:
        print(
            "dbt: nothing new to build (no source row, var or project file changed since "
            f"refresh {built_by}); its marts stand. `--full-refresh` rebuilds everything."
        )
    else:
        print(f"dbt's log of this refresh: {log_path}")
    published_now = any(
        event.asset_key == dg.AssetKey(["audit", "refresh_log"])
        for event in result.get_asset_materialization_events()
    )
    if result.success and published_now:
        dbt_index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
        if built_by is None and dbt_index.exists() and dbt_index.stat().st_mtime >= started_at:
            print(f"dbt docs of this build: {dbt_index} (`seatshift docs` serves them)")
        elif built_by is None and dbt_index.exists() and _docs_kept(log_path):
            print(
                f"dbt docs of this build: {dbt_index}, kept (the same project code, vars and "
                "relations as the build that made it)"
            )
        elif built_by is None:
            print(
                "dbt docs were not generated for this build (see dbt's log of this refresh); "
                + ("the previous site stays" if dbt_index.exists() else "there is no site yet")
            )
        print(f"published {published} (run {result.run_id})")
        for note in unknown_settings_notes(published):
            print(note)
        return 0
    reason = _failure_reason(result, published)
    if _ran_out_of_disk(result, reason):
        reason = (
            f"no space left on device for the build in {settings.build_dir(published)}; "
            "the build was removed"
        )
    kept = (
        "the previous build stays published" if published.exists() else "nothing is published yet"
    )
    # the reason is the last line, on its own: an operator reads just that line
    print(
        f"the run's events, with any traceback: run {result.run_id} in the Dagster UI "
        "(`seatshift dagster`)",
        file=sys.stderr,
    )
    print(f"refresh failed: {reason} ({kept})", file=sys.stderr)
    return 1
