"""The `seatshift` command: generate exports, refresh, serve the dashboard, the docs and Dagster.

`seatshift refresh` runs the very Dagster job the schedule and the sensor run, in this process,
so what an operator sees from the command line is what production does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from orchestration.lib import settings

REFRESH_JOB = "refresh_warehouse"
# Dagster's console log goes to the run's event log (the Dagster UI); the command prints the
# load report and one line of outcome, which is what an operator reads.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
REPORT_COLUMNS = (
    ("file_name", "file"),
    ("status", "status"),
    ("rows_read", "read"),
    ("rows_loaded", "loaded"),
    ("rows_duplicate", "duplicate"),
    ("rows_quarantined", "quarantined"),
    ("message", "message"),
)


def _generate(args: argparse.Namespace) -> int:
    from orchestration.lib.generator import generate

    out = Path(args.out)
    began = time.monotonic()
    _say_progress(began, f"generating the demo company's exports into {out}")
    summary = generate(
        out,
        accounts=args.accounts,
        months=args.months,
        start=args.start,
        seed=args.seed,
        fmt=args.format,
        usage_per_seat_day=args.usage_per_seat_day,
        progress=lambda text: _say_progress(began, text),
    )
    counts = summary.get("row_counts", {})
    print(f"wrote {sum(counts.values()):,} rows of {len(counts)} exports into {out}")
    for export, rows in counts.items():
        print(f"  {export:<16} {rows:>12,}")
    return 0


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


def _refresh_run_config(args: argparse.Namespace) -> dict:
    """The Launchpad's config of the refresh job, from the command's flags."""
    dbt_config = {}
    if args.full_refresh:
        dbt_config["full_refresh"] = True
    if args.rebuild_months:
        dbt_config["rebuild_months"] = [m.strip() for m in args.rebuild_months.split(",") if m]
    config = dict(QUIET_RUN_CONFIG)
    if dbt_config:
        config["ops"] = {"dbt_models": {"config": dbt_config}}
    return config


def _say_progress(began: float, text: str) -> None:
    """One line of progress on stderr: seconds since the command started, then what runs."""
    print(f"[{time.monotonic() - began:6.1f} s] {text}", file=sys.stderr, flush=True)


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
                _say_progress(self._began, _stage_of(step_key))


def _refresh(args: argparse.Namespace) -> int:
    landing = settings.landing_dir(args.landing)
    published = settings.warehouse_path(args.warehouse)
    dbt_vars = None
    if args.vars:
        vars_path = Path(args.vars)
        dbt_vars = vars_path.read_text() if vars_path.is_file() else args.vars
    # The definitions (resources, job tags) read these when they load, below.
    settings.configure(landing=landing, warehouse=published, dbt_vars=dbt_vars)
    if not landing.is_dir():
        print(f"refresh failed: the landing folder {landing} does not exist", file=sys.stderr)
        return 2

    began, started_at = time.monotonic(), time.time()
    _say_progress(began, f"refresh of {published} from {landing}: loading the definitions")
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
        _say_progress(began, "definitions loaded; planning the run")
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
    print(_format_report(_file_reports(result)))
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
    print(f"refresh failed: {reason} ({kept})", file=sys.stderr)
    return 1


def _rate(args: argparse.Namespace) -> int:
    from orchestration.lib import rating

    try:
        rows = rating.rate(
            Path(args.price_book), Path(args.usage), sql=rating.rating_sql(args.warehouse)
        )
    except (rating.RatingError, OSError) as error:
        print(f"rate failed: {error}", file=sys.stderr)
        return 1
    count = rating.write_output(rows, Path(args.out))
    print(f"wrote {count:,} rated lines into {args.out}")
    return 0


# What st.login needs of `[auth]`, and of each provider (`[auth]` itself, or `[auth.<name>]`).
SIGN_IN_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _sign_in_section(secrets: Path) -> dict | None:
    """The `[auth]` table of the dashboard's secrets file; None when there is none.

    Raises ValueError with a sentence when the file exists but is not TOML.
    """
    import tomllib

    if not secrets.is_file():
        return None
    try:
        parsed = tomllib.loads(secrets.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{secrets} is not valid TOML ({error})") from None
    auth = parsed.get("auth")
    if not isinstance(auth, dict) or not auth:
        return None
    missing = [key for key in SIGN_IN_KEYS if not auth.get(key)]
    providers = [value for value in auth.values() if isinstance(value, dict)] or [auth]
    missing += sorted(
        {key for provider in providers for key in PROVIDER_KEYS if not provider.get(key)}
    )
    if missing:
        raise ValueError(f"[auth] in {secrets} lacks {', '.join(missing)}")
    return auth


def _dashboard(args: argparse.Namespace) -> int:
    published = settings.warehouse_path(args.warehouse)
    secrets = settings.dashboard_secrets_path(args.secrets)
    try:
        auth = _sign_in_section(secrets)
    except ValueError as error:
        print(f"dashboard refused: {error}", file=sys.stderr)
        return 2
    host = args.host
    if auth is None and not _is_loopback(host):
        print(
            f"dashboard refused: --host {host} would serve invoices and account data to anyone "
            f"who reaches it; sign-in is not configured (no [auth] in {secrets}; see "
            ".streamlit/secrets.toml.example)",
            file=sys.stderr,
        )
        return 2
    # The dashboard fails closed: should the secrets file stop parsing while it serves, a reader
    # is turned away rather than treated as a local user with every role.
    # The dashboard serves the dbt docs and the GX Data Docs itself, on the port after its own
    # (127.0.0.1 only), unless SEATSHIFT_DOCS_URL names where a `seatshift docs` runs.
    docs_url = settings.current().docs_url or f"http://127.0.0.1:{args.port + 1}"
    env = settings.child_environment(
        SEATSHIFT_WAREHOUSE=str(published),
        SEATSHIFT_SIGN_IN_REQUIRED="1" if auth is not None else "",
        SEATSHIFT_DOCS_URL=docs_url,
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(settings.DASHBOARD_ENTRYPOINT),
        "--server.address", host,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--secrets.files", str(secrets),
    ]  # fmt: skip
    if auth is None:
        print(
            f"serving the dashboard on http://{host}:{args.port} (warehouse {published}); "
            f"sign-in is not configured (no [auth] in {secrets}): loopback only, every reader "
            f"holds every role; its dbt docs and Data Docs on {docs_url}/"
        )
    else:
        print(
            f"serving the dashboard on http://{host}:{args.port} (warehouse {published}) with "
            f"sign-in ({secrets})"
        )
    sys.stdout.flush()
    os.chdir(settings.REPO_ROOT)  # .streamlit/config.toml is read from the working folder
    os.execvpe(command[0], command, env)
    return 0  # not reached


def _use_dashboard_modules(warehouse: str | None, command: str) -> bool:
    """Point the dashboard's own modules (dashboards/lib) at the published warehouse, for a
    command that writes what a page's button writes; False, said in one line, without one."""
    published = settings.warehouse_path(warehouse)
    if not published.exists():
        print(f"{command} failed: no published warehouse at {published}", file=sys.stderr)
        return False
    settings.configure(warehouse=published)
    import dashboards.lib

    dashboards.lib.use_without_server()
    return True


def _report(args: argparse.Namespace) -> int:
    """The decision pack, written by the dashboard's own report module (the Overview's button)."""
    if not _use_dashboard_modules(args.warehouse, "report"):
        return 1
    from dashboards.lib import queries, report

    try:
        name, html = report.build_pack(segment=args.segment, price_model_id=args.price_model)
    except queries.QueryFailed as failure:
        print(f"report failed: {failure.sentence} {failure.details}".strip(), file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(html, encoding="utf-8")
    print(f"wrote the decision pack {path} ({len(html.encode()) / 1e6:.1f} MB, opens offline)")
    return 0


def _paper_invoice(args: argparse.Namespace) -> int:
    """One account's old and new invoice side by side, by the dashboard's own module (the
    Migration plan page's button)."""
    if not _use_dashboard_modules(args.warehouse, "paper-invoice"):
        return 1
    from dashboards.lib import paper_invoice, queries

    try:
        name, html = paper_invoice.build_paper_invoice(
            args.account, args.price_model, month=args.month
        )
    except queries.QueryFailed as failure:
        print(
            f"paper-invoice failed: {failure.sentence} {failure.details}".strip(), file=sys.stderr
        )
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(html, encoding="utf-8")
    print(f"wrote the paper invoice {path} (opens offline)")
    return 0


def _docs(args: argparse.Namespace) -> int:
    """The dbt docs and the GX Data Docs beside the warehouse, on 127.0.0.1, until Ctrl-C."""
    from orchestration.lib import docs_site

    published = settings.warehouse_path(args.warehouse)
    try:
        server = docs_site.make_server(published, args.port)
    except OSError as error:
        print(
            f"docs failed: cannot serve on {docs_site.HOST}:{args.port}: {error}", file=sys.stderr
        )
        return 2
    host, port = server.server_address[:2]
    dbt_index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
    print(
        f"serving the docs of {published} on http://{host}:{port}/ (dbt docs at "
        f"{docs_site.DBT_PREFIX}{'' if dbt_index.exists() else ', not generated yet'}; GX Data "
        f"Docs at {docs_site.DATA_DOCS_PREFIX}). Ctrl-C stops it.",
        flush=True,
    )
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def _create_instance_storage(home: Path) -> None:
    """Create (and migrate) the instance's SQLite storage once, here, before the web server and
    the daemon start: on a new instance both would create it at the same moment, and two
    processes stamping its schema version at once leave it with two alembic heads, after which
    the code location never loads ("Version table 'alembic_version' has more than one head")."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)  # run storage
        instance.get_latest_materialization_event(dg.AssetKey(["landing", "inventory"]))  # events
        instance.all_instigator_state()  # schedule and sensor storage


def _dagster(args: argparse.Namespace) -> int:
    """The Dagster web server and daemon, as two processes of this venv, stopped together.

    The daemon evaluates the schedule and the landing-folder sensor and launches queued runs;
    the web server is the UI. Neither needs the venv on PATH: both are started by absolute path,
    and the code location prepares its dbt manifest without a subprocess.
    """
    import signal
    import subprocess
    import time

    from orchestration.lib.dbt_project import ensure_manifest

    # Every process started for this instance inherits the mark, however it was started
    # (sessions of its own, multiprocessing's helpers): stopping finds them all by it.
    tree_mark = f"{os.getpid()}-{uuid.uuid4().hex}"
    env = settings.child_environment(
        DAGSTER_HOME=str(settings.dagster_home()),
        SEATSHIFT_LANDING=str(settings.landing_dir(args.landing)),
        SEATSHIFT_WAREHOUSE=str(settings.warehouse_path(args.warehouse)),
        **{TREE_MARK: tree_mark},
    )
    ensure_manifest()  # once, before two code servers would both find it stale
    _create_instance_storage(Path(env["DAGSTER_HOME"]))
    bin_dir = Path(sys.executable).parent
    location = ["-w", str(settings.REPO_ROOT / "workspace.yaml")]
    commands = {
        "web server": [
            str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(args.port),
            *location,
        ],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", *location],
    }  # fmt: skip
    print(
        f"Dagster UI on http://127.0.0.1:{args.port} with the daemon (schedule and sensor on); "
        f"landing {env['SEATSHIFT_LANDING']}, warehouse {env['SEATSHIFT_WAREHOUSE']}, "
        f"instance {env['DAGSTER_HOME']}. Ctrl-C stops both.",
        flush=True,
    )
    _adopt_orphans()  # whatever a run leaves behind is re-parented here, and stopped with us
    # Each in a session of its own, so that stopping it reaches its code servers and run workers.
    processes = {
        name: subprocess.Popen(command, env=env, cwd=settings.REPO_ROOT, start_new_session=True)
        for name, command in commands.items()
    }
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        ended = {name: p.poll() for name, p in processes.items() if p.poll() is not None}
        if ended:
            name, code = next(iter(ended.items()))
            print(f"dagster stopped: the {name} exited with code {code}", file=sys.stderr)
            exit_code = code or 1
            break
        time.sleep(0.5)
    _stop_process_groups(list(processes.values()))
    _stop_marked_processes(tree_mark)
    return exit_code


TREE_MARK = "SEATSHIFT_DAGSTER_TREE"


def _stop_marked_processes(tree_mark: str) -> None:
    """SIGKILL every process left whose environment carries this `seatshift dagster`'s mark.

    Stopping the process groups and the adopted orphans misses a process that was re-parented
    to init rather than here: in about one run in six of the daemon test, a code server's
    multiprocessing resource tracker (in that code server's session) was left running with
    parent 1. The mark is this command's alone, so nothing else is touched.
    """
    marker = f"{TREE_MARK}={tree_mark}".encode()
    me = os.getpid()
    _kill_until_none(
        lambda entry: (
            int(entry.name) != me and marker in (entry / "environ").read_bytes().split(b"\0")
        )
    )


def _kill_until_none(matches, rounds: int = 20) -> None:
    """SIGKILL every process whose /proc entry `matches`, reaping those that are this process's
    children, until a scan finds none (a killed parent's children are re-parented, then found)."""
    import signal

    for _ in range(rounds):
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError, IndexError, ValueError):  # gone mid-scan
                if matches(entry):
                    found.append(int(entry.name))
        if not found:
            return
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):  # not a child: init reaps it
                os.waitpid(pid, 0)
        time.sleep(0.05)  # a killed process that is not ours leaves /proc once it has exited


def _stop_process_groups(processes: list, grace_seconds: float = 30) -> None:
    """SIGINT to each process group, then SIGKILL to whatever is left after the grace period."""
    import signal
    import subprocess
    import time

    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # code servers, run workers, trackers
        process.wait()
    _stop_adopted_orphans()


def _adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux; elsewhere a no-op).

    A process in a session of its own, such as the `dbt build` that `seatshift-dbt` starts, is
    not reached by stopping its ancestors' process groups; when its parent dies first it would be
    re-parented to init and run on. As a child subreaper, this process gets it, and stops it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_child_subreaper = 36
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def _stop_adopted_orphans() -> None:
    """SIGKILL and reap every remaining child of this process, adopted orphans included."""
    me = str(os.getpid())

    def is_child(entry: Path) -> bool:
        # /proc/<pid>/stat: "pid (comm) state ppid ...": comm may hold spaces, ")" ends it
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == me

    _kill_until_none(is_child)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seatshift", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic vendor's exports")
    generate.add_argument("--out", required=True, help="folder to write the export files into")
    generate.add_argument("--accounts", type=int, default=300)
    generate.add_argument("--months", type=int, default=24)
    generate.add_argument("--start", default="2024-11", help="first month, YYYY-MM")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--format", choices=["csv", "parquet", "jsonl"], default="csv")
    generate.add_argument("--usage-per-seat-day", type=float, default=1.0)
    generate.set_defaults(handler=_generate)

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
    refresh.set_defaults(handler=_refresh)

    rate = commands.add_parser(
        "rate", help="rate usage quantities under a price book with shadow billing's SQL"
    )
    rate.add_argument("--price-book", required=True, help="folder of the price book's CSVs")
    rate.add_argument("--usage", required=True, help="CSV: account_id, period, metric, quantity")
    rate.add_argument("--out", required=True, help="CSV to write the rated lines into")
    rate.add_argument(
        "--warehouse",
        help="take the rating SQL this warehouse's build published (default: the configured "
        "warehouse; without one, dbt compiles it)",
    )
    rate.set_defaults(handler=_rate)

    dashboard = commands.add_parser(
        "dashboard", help="serve the Streamlit dashboard (127.0.0.1 unless sign-in is configured)"
    )
    dashboard.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; anything but loopback needs sign-in ([auth] in the secrets file)",
    )
    dashboard.add_argument(
        "--secrets",
        help="the dashboard's secrets.toml: [auth] sign-in and [seatshift.roles] (default "
        f"$SEATSHIFT_DASHBOARD_SECRETS or {settings.DEFAULT_DASHBOARD_SECRETS})",
    )
    dashboard.set_defaults(handler=_dashboard)

    report_command = commands.add_parser(
        "report", help="write the decision pack: one self-contained HTML file"
    )
    report_command.add_argument("--out", required=True, help="folder to write the pack into")
    report_command.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    report_command.add_argument(
        "--segment", help="the segment in depth (default: the one most in need of a decision)"
    )
    report_command.add_argument(
        "--price-model", help="the proposal of the pilot list (default: the passing one)"
    )
    report_command.set_defaults(handler=_report)

    paper = commands.add_parser(
        "paper-invoice",
        help="write one account's old and new invoice side by side: one self-contained HTML file",
    )
    paper.add_argument("--account", required=True, help="the account id")
    paper.add_argument("--price-model", required=True, help="the proposal to price the month by")
    paper.add_argument("--out", required=True, help="folder to write the file into")
    paper.add_argument("--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})")
    paper.add_argument(
        "--month", help="YYYY-MM (default: the latest month the account was really billed)"
    )
    paper.set_defaults(handler=_paper_invoice)

    docs = commands.add_parser(
        "docs", help="serve the dbt docs and the GX Data Docs of the warehouse on 127.0.0.1"
    )
    docs.add_argument("--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})")
    docs.add_argument("--port", type=int, default=settings.DEFAULT_DOCS_PORT)
    docs.set_defaults(handler=_docs)

    dagster = commands.add_parser(
        "dagster", help="serve the Dagster UI with the daemon (schedule, sensor, run queue)"
    )
    dagster.add_argument("--landing", help=f"landing folder (default {settings.DEFAULT_LANDING})")
    dagster.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    dagster.add_argument("--port", type=int, default=3000)
    dagster.set_defaults(handler=_dagster)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
