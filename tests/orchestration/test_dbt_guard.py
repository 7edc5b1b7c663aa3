"""`seatshift-dbt`, the guard dagster-dbt runs instead of dbt: it answers `--version` itself, and
what it starts does not outlive it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.lib.settings import REPO_ROOT

BIN = Path(sys.executable).parent


def test_the_guard_names_the_same_dbt_version_as_dbt_itself():
    # dagster-dbt reads the first x.y.z of `<executable> --version` as the dbt version; the guard
    # must name the version dbt itself reports, without the seconds dbt takes to say it.
    ours = subprocess.run(
        [str(BIN / "seatshift-dbt"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    theirs = subprocess.run(
        [str(BIN / "dbt"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT / "dbt_project",
    ).stdout
    version = re.compile(r"(\d+\.\d+\.\d+)")
    assert version.search(ours).group(1) == version.search(theirs).group(1)
    assert re.search(r"duckdb: (\d+\.\d+\.\d+)", ours).group(1) == re.search(
        r"duckdb: (\d+\.\d+\.\d+)", theirs
    ).group(1)


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_what_the_guard_starts_dies_when_the_guard_is_killed(tmp_path):
    # The guard starts dbt in a session of its own; `seatshift dagster` stops a run's process group
    # with SIGKILL after its grace period, which the guard cannot catch. Its child must not live on.
    # A real guard-shaped parent: a Python process that starts `sleep` the way the guard starts dbt.
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from orchestration.lib.dbt_guard import _die_with_parent\n"
            "child = subprocess.Popen(['sleep', '120'], start_new_session=True,"
            " preexec_fn=_die_with_parent)\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(120)\n",
        ],
        cwd=REPO_ROOT,
    )
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    child = int(pid_file.read_text())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(child):  # leave the machine clean before failing
        os.kill(child, signal.SIGKILL)
    assert not _alive(child), "the guard's child outlived the guard"
