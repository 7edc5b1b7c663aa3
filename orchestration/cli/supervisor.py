"""Stopping every process a `seatshift dagster` started, however deep: process groups first, then
orphans this process adopted as a child subreaper, then anything left that carries the command's
mark in its environment. Linux /proc and prctl; elsewhere the first step only."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

TREE_MARK = "SEATSHIFT_DAGSTER_TREE"


def stop_marked_processes(tree_mark: str) -> None:
    """SIGKILL every process left whose environment carries this `seatshift dagster`'s mark.

    Stopping the process groups and the adopted orphans misses a process that was re-parented
    to init rather than here: in about one run in six of the daemon test, a code server's
    multiprocessing resource tracker (in that code server's session) was left running with
    parent 1. The mark is this command's alone, so nothing else is touched.
    """
    marker = f"{TREE_MARK}={tree_mark}".encode()
    me = os.getpid()
    kill_until_none(
        lambda entry: (
            int(entry.name) != me and marker in (entry / "environ").read_bytes().split(b"\0")
        )
    )


def kill_until_none(matches, rounds: int = 20) -> None:
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


def stop_process_groups(processes: list, grace_seconds: float = 30) -> None:
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
    stop_adopted_orphans()


def adopt_orphans() -> None:
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


def stop_adopted_orphans() -> None:
    """SIGKILL and reap every remaining child of this process, adopted orphans included."""
    me = str(os.getpid())

    def is_child(entry: Path) -> bool:
        # /proc/<pid>/stat: "pid (comm) state ppid ...": comm may hold spaces, ")" ends it
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == me

    kill_until_none(is_child)
