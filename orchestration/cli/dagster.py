"""`seatshift dagster`: the Dagster web server and daemon, started and stopped together."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from orchestration.cli import supervisor
from orchestration.lib import settings


def register(commands) -> None:
    dagster = commands.add_parser(
        "dagster", help="serve the Dagster UI with the daemon (schedule, sensor, run queue)"
    )
    dagster.add_argument("--landing", help=f"landing folder (default {settings.DEFAULT_LANDING})")
    dagster.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    dagster.add_argument(
        "--port", type=int, default=3000, help="the Dagster UI's port on 127.0.0.1 (default 3000)"
    )
    dagster.set_defaults(handler=run)


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


def run(args: argparse.Namespace) -> int:
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
        SEATSHIFT_LANDING=str(settings.landing_dir(settings.from_here(args.landing))),
        SEATSHIFT_WAREHOUSE=str(settings.warehouse_path(settings.from_here(args.warehouse))),
        **{supervisor.TREE_MARK: tree_mark},
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
    # Whatever a run leaves behind is re-parented here, and stopped with us.
    supervisor.adopt_orphans()
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
    supervisor.stop_process_groups(list(processes.values()))
    supervisor.stop_marked_processes(tree_mark)
    return exit_code
