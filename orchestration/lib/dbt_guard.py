"""`seatshift-dbt`: the venv's dbt, stopped when the process that started it dies.

dagster-dbt runs `dbt build` as a child process. When a refresh is killed (kill -9, the OOM
killer, a closed terminal), nothing told that child, so it went on writing into a build nobody
would publish, for minutes at 100M events. This guard sits between them: it runs dbt in a process
group of its own, forwards SIGINT/SIGTERM to it (Dagster's run termination), and when its parent
disappears (it is re-parented) it stops dbt's whole group and exits.

`seatshift-dbt --version` answers from the installed packages' metadata, without starting dbt:
dagster-dbt asks it once per run to learn the dbt version, and dbt's own answer costs a Python
process importing dbt (about 4 s of every refresh). It is the same venv's dbt that would answer.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import signal
import subprocess
import sys
from pathlib import Path

POLL_SECONDS = 0.2
GRACE_SECONDS = 5.0


def _stop_group(child: subprocess.Popen) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def _die_with_parent() -> None:
    """In the child, before dbt starts: SIGKILL when this guard dies, even by SIGKILL (Linux).

    The guard's own watch (below) covers a refresh that dies; this covers the guard itself being
    killed, as `seatshift dagster` does to a run's process group that outlives its grace period.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def installed_versions() -> str:
    """What `dbt --version` says of this venv, in its layout: dbt-core, then the adapter."""
    core = importlib.metadata.version("dbt-core")
    duckdb = importlib.metadata.version("dbt-duckdb")
    return f"Core:\n  - installed: {core}\n\nPlugins:\n  - duckdb: {duckdb}\n"


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments == ["--version"]:
        sys.stdout.write(installed_versions())
        return 0
    parent = os.getppid()
    dbt = Path(sys.executable).with_name("dbt")
    child = subprocess.Popen(
        [str(dbt), *arguments], start_new_session=True, preexec_fn=_die_with_parent
    )

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            code = child.wait(timeout=POLL_SECONDS)
            return code if code >= 0 else 128 - code
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:  # the refresh is gone: so is its build
                _stop_group(child)
                return 1


if __name__ == "__main__":
    sys.exit(main())
