"""Fault injection: kill -9 at every stage, two refreshes at once, a full disk, a late event.

Each fault is real: the `seatshift refresh` process is killed with SIGKILL (no handler runs), the
disk is a size-limited tmpfs. Throughout, a reader polls the published warehouse read-only, the way
the dashboard does, and must never meet a lock error or a half build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import lake, settings
from tests.conftest import REPO_ROOT, SEATSHIFT, refresh_environment, run_refresh
from tests.orchestration._reader import PollingReader

pytestmark = pytest.mark.faults


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listed_parts(warehouse: Path) -> dict[str, str]:
    """Every lake part the warehouse lists, with its content's hash (a part is never rewritten)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        paths = [path for (path,) in conn.sql("select part_path from audit.lake_parts").fetchall()]
    return {path: _sha256(Path(path)) for path in paths}


def _parts_on_disk(warehouse: Path) -> set[str]:
    return {str(path) for path in settings.lake_dir(warehouse).rglob("*.parquet")}


def _start_refresh(
    landing: Path, warehouse: Path, env: dict, log: Path, *args: str
) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen(
            [
                str(SEATSHIFT),
                "refresh",
                "--landing",
                str(landing),
                "--warehouse",
                str(warehouse),
                *args,
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Processes whose command line or environment mentions `text` (our temporary folder)."""
    found = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()
            if needle in cmdline or needle in (entry / "environ").read_bytes():
                found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode()[:200]))
    return found


def _wait_until(what: str, probe, timeout: float, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    output = log.read_text()[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{output}")


def _late_usage_event(warehouse: Path) -> tuple[str, str, str]:
    """A usage event that occurred 60 days before the as-of time (past the 35-day window)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        account_id, user_id, occurred_at = conn.execute(
            """
            select account_id, user_id, max(occurred_at) - interval 60 day
            from telemetry.usage_events
            where actor_type = 'human'
            group by account_id, user_id
            order by account_id, user_id
            limit 1
            """
        ).fetchone()
    return account_id, user_id, occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _account_month_tasks(warehouse: Path, account_id: str, occurred_at: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (tasks,) = conn.execute(
            """
            select tasks from marts.fct_account_month
            where account_id = ? and month = date_trunc('month', cast(? as timestamp))
            """,
            [account_id, occurred_at[:19]],
        ).fetchone()
    return tasks


def test_kill_9_at_every_stage_then_a_waiting_refresh_cleans_up_and_publishes(
    sample_warehouse, sample_landing, tmp_path
):
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    warehouse = tmp_path / "warehouse" / "seatshift.duckdb"
    warehouse.parent.mkdir()
    lake.copy_warehouse(sample_warehouse, warehouse)  # the last good build, being served
    published_hash = _sha256(warehouse)
    published_parts = _listed_parts(warehouse)
    assert published_parts, "the sample's raw rows live in lake parts"
    builds = settings.build_dir(warehouse)
    in_flight = settings.refresh_in_flight_path(warehouse)
    paused = warehouse.with_name(warehouse.name + ".paused_at")
    # A late event lands: every refresh below loads it (each writing its own lake part) until one
    # publishes.
    account_id, user_id, occurred_at = _late_usage_event(warehouse)
    tasks_before = _account_month_tasks(warehouse, account_id, occurred_at)
    (landing / "usage_events__late.csv").write_text(
        "event_id,account_id,actor_type,user_id,agent_id,occurred_at,feature,model,"
        "input_tokens,output_tokens,tasks,outcome\n"
        f"ue_late_001,{account_id},human,{user_id},,{occurred_at},chat,small,100,10,3,\n"
    )
    reader = PollingReader(warehouse)
    reader.start()
    try:
        # Kill -9 in the load, the checks and dbt (the swap's turn comes below).
        for stage in ("load", "checks", "dbt"):
            env = refresh_environment(
                **({"SEATSHIFT_FAULT_PAUSE_AT": stage} if stage != "dbt" else {})
            )
            log = tmp_path / f"refresh-{stage}.log"
            refresh = _start_refresh(landing, warehouse, env, log)
            if stage == "dbt":
                # The guard runs `dbt build` against this refresh's build file.
                _wait_until(
                    "dbt build to start",
                    lambda: [p for p in _processes_mentioning(str(builds)) if "build" in p[1]],
                    300,
                    log,
                )
                time.sleep(2)  # well inside dbt's work on the build
            else:
                _wait_until(f"the refresh to reach {stage}", paused.exists, 300, log)
                paused.unlink()
            assert in_flight.exists()
            refresh.send_signal(signal.SIGKILL)
            refresh.wait(timeout=30)
            # Nothing the killed refresh started goes on writing: not dbt, not its guard.
            survivors = _wait_until(
                "the killed refresh's children to stop",
                lambda: not _processes_mentioning(str(builds)) or None,
                20,
            )
            assert survivors is True
            assert _sha256(warehouse) == published_hash, f"kill -9 at {stage} changed the file"
            assert _listed_parts(warehouse) == published_parts, f"kill -9 at {stage} hurt a part"
            if stage == "dbt":  # every load ran before dbt: the killed refresh left its part
                assert _parts_on_disk(warehouse) - set(published_parts), stage
            assert any(builds.iterdir()), f"kill -9 at {stage} left no build (nothing to clean)"

        # A refresh that has built everything holds the lock just before the swap; a second
        # refresh started meanwhile waits, saying so, instead of failing; the first is then
        # killed before it publishes, and the second cleans up after it and publishes.
        holder_log = tmp_path / "refresh-holder.log"
        holder = _start_refresh(
            landing,
            warehouse,
            refresh_environment(SEATSHIFT_FAULT_PAUSE_AT="publish"),
            holder_log,
        )
        _wait_until("the holder to reach publish", paused.exists, 600, holder_log)
        paused.unlink()

        waiter_log = tmp_path / "refresh-waiter.log"
        waiter = _start_refresh(landing, warehouse, refresh_environment(), waiter_log)
        _wait_until(
            "the second refresh to say it waits",
            lambda: "another refresh of" in waiter_log.read_text(),
            120,
            waiter_log,
        )
        assert waiter.poll() is None, waiter_log.read_text()
        assert f"another refresh of {warehouse} is running; waiting" in waiter_log.read_text()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert waiter.wait(timeout=600) == 0, waiter_log.read_text()
    finally:
        reader.stop()

    assert _sha256(warehouse) != published_hash
    assert list(builds.iterdir()) == [], "the next refresh left builds behind"
    # The parts the killed refreshes wrote are gone; every part of the old build is still listed
    # (the late event added one of its own), and every part on disk is listed.
    listed = _listed_parts(warehouse)
    assert published_parts.items() <= listed.items()
    assert len(listed) == len(published_parts) + 1
    assert _parts_on_disk(warehouse) == set(listed)
    assert not in_flight.exists()
    assert not _processes_mentioning(str(tmp_path / "warehouse"))
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        statuses = conn.execute(
            "select status, count(*) from audit.refresh_log group by status order by status"
        ).fetchall()
        (reason,) = conn.execute(
            "select any_value(message) from audit.refresh_log where status = 'interrupted'"
        ).fetchone()
    # 4 interrupted (load, checks, dbt, publish) beside the sample's publish and this one.
    assert dict(statuses) == {"interrupted": 4, "published": 2}
    assert "killed or crashed" in reason
    status = json.loads(settings.refresh_status_path(warehouse).read_text())
    assert status["status"] == "published"
    # The event 60 days late restated its month: 3 more tasks for that account-month.
    assert _account_month_tasks(warehouse, account_id, occurred_at) == tasks_before + 3
    assert reader.reads > 50
    assert reader.errors == [], reader.errors[:5]


@pytest.mark.skipif(os.geteuid() != 0, reason="a size-limited filesystem (tmpfs) needs root")
def test_a_full_disk_during_a_build_keeps_the_published_file_and_says_so(
    sample_warehouse, sample_landing, tmp_path
):
    mount = tmp_path / "small_disk"
    mount.mkdir()
    size = sample_warehouse.stat().st_size
    parts = lake.listed_part_totals(sample_warehouse)[1]
    # Room for the published file, its lake and the build's copy of the file (a build copies no
    # part), and not for what dbt writes into the copy.
    limit_kb = (2 * size + parts + 256 * 1024) // 1024
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={limit_kb}k", "tmpfs", str(mount)], check=True
    )
    try:
        warehouse = mount / "seatshift.duckdb"
        lake.copy_warehouse(sample_warehouse, warehouse)
        published_hash = _sha256(warehouse)
        published_parts = _listed_parts(warehouse)
        reader = PollingReader(warehouse)
        reader.start()
        try:
            run = run_refresh(sample_landing, warehouse, "--full-refresh")
        finally:
            reader.stop()
        assert run.returncode == 1, run.stdout + run.stderr
        (line,) = [line for line in run.stderr.splitlines() if line.startswith("refresh failed")]
        assert "no space left on device" in line.lower()
        assert "the previous build stays published" in line
        assert _sha256(warehouse) == published_hash
        assert _listed_parts(warehouse) == published_parts
        assert _parts_on_disk(warehouse) == set(published_parts)
        assert list(settings.build_dir(warehouse).glob("*")) == []
        assert reader.errors == [], reader.errors[:5]
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
