"""Measuring a child process: wall time, its peak RSS and the peak RSS of its whole tree.

A sampler reads /proc every 0.2 s: the sum of VmRSS over every live process of the tree (the
refresh runs dbt as a second process beside Dagster's: the machine has to hold both) and each
process's own peak (VmHWM). Not `ru_maxrss`: Linux carries the parent's high-water mark across
fork and exec into the child's, so every child of a big bench process would report at least the
bench's own size, and RUSAGE_CHILDREN also keeps the largest of all earlier children.
"""

from __future__ import annotations

import math
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Measured:
    seconds: float
    exit_code: int
    max_process_rss_bytes: int  # the largest single process of the tree (VmHWM)
    peak_tree_rss_bytes: int  # all processes of the tree at once (VmRSS), sampled every 0.2 s
    started_at: float  # time.time() when the child was started


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found += [int(child) for child in text.split()]
    return found


def memory_bytes(pid: int | str = "self") -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process: its resident memory now and its peak since exec."""
    found = {"VmRSS:": 0, "VmHWM:": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(maxsplit=1)[0] if line else ""
            if key in found:
                found[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return found["VmRSS:"], found["VmHWM:"]


def sample_tree(root: int, peaks: dict[int, int]) -> int:
    """The tree's total VmRSS now; records each process's VmHWM into `peaks`."""
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        rss, hwm = memory_bytes(pid)
        total += rss
        peaks[pid] = max(peaks.get(pid, 0), hwm)
        pending += _children(pid)
    return total


def run_measured(
    command: list[str], *, env: dict[str, str], output: Path, cwd: Path | None = None
) -> Measured:
    """Runs command to completion with stdout and stderr into `output`."""
    peak, peaks = [0], {}
    started_at = time.time()
    started = time.perf_counter()
    with open(output, "wb") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        done = threading.Event()

        def _sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], sample_tree(process.pid, peaks))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=_sample, daemon=True)
        sampler.start()
        _, status = os.waitpid(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Measured(
        seconds=seconds,
        exit_code=process.returncode,
        max_process_rss_bytes=max(peaks.values(), default=0),
        peak_tree_rss_bytes=peak[0],
        started_at=started_at,
    )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: of 7 calls, p50 is the 4th fastest and p95 the slowest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
