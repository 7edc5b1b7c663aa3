"""Write-audit-publish for the one-file DuckDB warehouse.

A refresh never writes into the published file. It copies the published warehouse to a private
build file (raw tables and audit history carry over, so already-loaded exports are not reloaded),
loads, validates and builds there, and only when every check passed publishes it with one
`os.replace`: atomic on one filesystem, so a reader sees the old file or the new one, never half a
build, and never a lock held by the writer (STACK.md: DuckDB locks are exclusive both ways).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.lib import settings


class RefreshAlreadyRunning(RuntimeError):
    pass


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_refresh_id(run_id: str | None = None) -> str:
    """Sortable by time, unique by run: `20261122T090000Z-1a2b3c4d`."""
    suffix = (run_id or uuid.uuid4().hex)[:8]
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{suffix}"


def start_build(published: Path, refresh_id: str) -> Path:
    """A private copy of the published warehouse (or a new file) for one refresh to write into."""
    build_dir = settings.build_dir(published)
    build_dir.mkdir(parents=True, exist_ok=True)
    build = build_dir / f"{refresh_id}.duckdb"
    discard_build(build)
    if published.exists():
        shutil.copyfile(published, build)
    return build


def publish_build(build: Path, published: Path) -> None:
    """Checkpoint the build so the file is complete on its own, then swap it in atomically."""
    with duckdb.connect(str(build)) as conn:
        conn.execute("checkpoint")
    wal = build.with_name(build.name + ".wal")
    if wal.exists():  # a checkpointed database needs no WAL; a stale one must not follow it
        wal.unlink()
    published.parent.mkdir(parents=True, exist_ok=True)
    os.replace(build, published)
    _remove_spill_folder(build)


def discard_build(build: Path) -> None:
    for path in (build, build.with_name(build.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    _remove_spill_folder(build)


def _remove_spill_folder(build: Path) -> None:
    """dbt's profile lets DuckDB spill into `<database>.tmp` beside the build; drop it with it."""
    shutil.rmtree(build.with_name(build.name + ".tmp"), ignore_errors=True)


@contextlib.contextmanager
def refresh_lock(published: Path) -> Iterator[None]:
    """One refresh at a time per warehouse: schedule, sensor and a person may all start one."""
    published.parent.mkdir(parents=True, exist_ok=True)
    lock_path = published.with_name(published.name + ".refresh.lock")
    with open(lock_path, "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise RefreshAlreadyRunning(
                f"another refresh of {published.name} is running; try again when it ends"
            ) from error
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def write_refresh_status(
    published: Path,
    *,
    refresh_id: str,
    status: str,
    started_at: dt.datetime,
    reason: str | None = None,
) -> dict:
    """Record the last refresh attempt beside the warehouse (a failed build has no file for it)."""
    record = {
        "refresh_id": refresh_id,
        "status": status,
        "started_at": started_at.isoformat() + "Z",
        "finished_at": utc_now().isoformat() + "Z",
        "reason": reason,
    }
    path = settings.refresh_status_path(published)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temporary, path)
    return record


def read_refresh_status(published: Path) -> dict | None:
    path = settings.refresh_status_path(published)
    if not path.exists():
        return None
    return json.loads(path.read_text())
