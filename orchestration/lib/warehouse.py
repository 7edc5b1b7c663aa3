"""Write-audit-publish for the one-file DuckDB warehouse.

A refresh never writes into the published file. It copies the published warehouse to a private
build file (raw tables and audit history carry over, so already-loaded exports are not reloaded),
loads, validates and builds there, and only when every check passed publishes it with one
`os.replace`: atomic on one filesystem, so a reader sees the old file or the new one, never half a
build, and never a lock held by the writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import glob
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from orchestration.lib import docs_site, settings


class RefreshAlreadyRunning(RuntimeError):
    pass


LOCK_POLL_SECONDS = 1.0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_refresh_id(run_id: str | None = None) -> str:
    """Sortable by time, unique by run: `20261122T090000Z-1a2b3c4d`."""
    suffix = (run_id or uuid.uuid4().hex)[:8]
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{suffix}"


def build_path(published: Path) -> Path:
    """Where a refresh of `published` builds: the same path on every refresh of it (the refresh
    lock allows one at a time), named like the published file. dbt's partial parsing keys on the
    profile's database path and name, so a stable path lets a daily refresh skip the full parse
    of the project (a new path each time cost a full parse, about 10 s)."""
    return settings.build_dir(published) / published.name


def _build_leftovers(published: Path) -> list[Path]:
    """What a refresh of `published` may have left in the build folder: its build file, WAL and
    spill folder (never another warehouse's, should two share the folder)."""
    folder = settings.build_dir(published)
    return sorted(folder.glob(glob.escape(published.name) + "*")) if folder.exists() else []


def start_build(published: Path, refresh_id: str) -> Path:
    """A private copy of the published warehouse (or a new file) for one refresh to write into."""
    del refresh_id  # the run is recorded in the in-flight marker; the path stays stable
    build = build_path(published)
    build.parent.mkdir(parents=True, exist_ok=True)
    discard_build(build)
    if published.exists():
        try:
            shutil.copyfile(published, build)
        except BaseException:  # a full disk or a signal mid-copy: leave no partial build
            discard_build(build)
            raise
    return build


def publish_build(build: Path, published: Path) -> None:
    """Checkpoint the build so the file is complete on its own, then swap it in atomically; its
    dbt docs and the GX Data Docs of its validations, when it made them, follow it the same way
    (the warehouse first: docs never describe a build readers cannot see)."""
    with duckdb.connect(str(build)) as conn:
        conn.execute("checkpoint")
    wal = build.with_name(build.name + ".wal")
    if wal.exists():  # a checkpointed database needs no WAL; a stale one must not follow it
        wal.unlink()
    published.parent.mkdir(parents=True, exist_ok=True)
    os.replace(build, published)
    _remove_spill_folder(build)
    staged = staged_docs_path(build)
    if staged.exists():
        site = settings.dbt_docs_dir(published)
        site.mkdir(parents=True, exist_ok=True)
        key = staged_docs_key_path(build)
        with contextlib.suppress(FileNotFoundError):  # never a key that describes another page
            (site / settings.DBT_DOCS_KEY).unlink()
        os.replace(staged, site / settings.DBT_DOCS_INDEX)
        if key.exists():
            os.replace(key, site / settings.DBT_DOCS_KEY)
    publish_data_docs(staged_data_docs_path(build), settings.data_docs_dir(published))
    publish_dbt_state(staged_dbt_state_path(build), settings.dbt_state_dir(published))


def staged_dbt_state_path(build: Path) -> Path:
    """The dbt state (`settings.dbt_state_dir`) of a build not yet published, beside the build."""
    return build.with_name(build.name + ".dbt_state")


def stage_dbt_state(build: Path, manifest: str) -> Path:
    """Keep the build's manifest (as `dbt_project.deferral_manifest` gives it) for publish."""
    folder = staged_dbt_state_path(build)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(manifest)
    return folder


def publish_dbt_state(staged: Path, published: Path) -> None:
    """The staged state replaces the published one (a rename); without one the published state
    stays, which describes the same code (a refresh that did not run dbt)."""
    if not (staged / "manifest.json").is_file():
        return
    retired = published.with_name(f".{published.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if published.exists():
        os.replace(published, retired)
    os.replace(staged, published)
    shutil.rmtree(retired, ignore_errors=True)


def staged_data_docs_path(build: Path) -> Path:
    """The GX Data Docs a refresh's checks write (one site per export validated anew), in the
    build folder and named after the build like its dbt docs, so a dead build takes them along."""
    return build.with_name(build.name + ".data_docs")


def publish_data_docs(staged: Path, published: Path) -> None:
    """Each export's newly written site replaces its published one (a rename per export; an
    export this build did not validate anew keeps its site), then the page over all is rewritten."""
    if not staged.is_dir():
        return
    published.mkdir(parents=True, exist_ok=True)
    for site in sorted(path for path in staged.iterdir() if path.is_dir()):
        target = published / site.name
        retired = published / f".{site.name}.retired"
        shutil.rmtree(retired, ignore_errors=True)
        if target.exists():
            os.replace(target, retired)
        os.replace(site, target)
        shutil.rmtree(retired, ignore_errors=True)
    docs_site.write_data_docs_index(published)
    shutil.rmtree(staged, ignore_errors=True)


def staged_docs_path(build: Path) -> Path:
    """The dbt docs of a build not yet published: in the build folder, named after the build, so
    whatever removes a dead build (`discard_build`, `recover_interrupted`) removes them too."""
    return build.with_name(build.name + ".dbt_docs.html")


def staged_docs_key_path(build: Path) -> Path:
    """What the staged docs page was made from (`published_docs_key`), staged beside it."""
    return build.with_name(build.name + ".dbt_docs.key")


def stage_docs(build: Path, static_index: Path, inputs_key: str | None = None) -> Path:
    """Keep dbt's static docs page for `publish_build`, with the key of what it was made from; a
    copy cut short (a full disk, a kill) stays under a partial name that publish never moves."""
    staged = staged_docs_path(build)
    partial = staged.with_name(staged.name + ".partial")
    try:
        shutil.copyfile(static_index, partial)
        if inputs_key is not None:
            staged_docs_key_path(build).write_text(inputs_key + "\n")
        os.replace(partial, staged)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return staged


def published_docs_key(published: Path) -> str | None:
    """The key of what the published dbt docs page was made from, or None (no page, or a page
    from before keys were kept): the dbt step makes the page again only when its key differs."""
    site = settings.dbt_docs_dir(published)
    try:
        if not (site / settings.DBT_DOCS_INDEX).is_file():
            return None
        return (site / settings.DBT_DOCS_KEY).read_text().strip() or None
    except OSError:
        return None


def discard_build(build: Path) -> None:
    staged = staged_docs_path(build)
    for path in (
        build,
        build.with_name(build.name + ".wal"),
        staged,
        staged_docs_key_path(build),
    ):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    _remove_spill_folder(build)
    shutil.rmtree(staged_data_docs_path(build), ignore_errors=True)
    shutil.rmtree(staged_dbt_state_path(build), ignore_errors=True)


def _remove_spill_folder(build: Path) -> None:
    """dbt's profile lets DuckDB spill into `<database>.tmp` beside the build; drop it with it."""
    shutil.rmtree(build.with_name(build.name + ".tmp"), ignore_errors=True)


def _lock_path(published: Path) -> Path:
    return published.with_name(published.name + ".refresh.lock")


def refresh_is_running(published: Path) -> bool:
    """True while another process holds the refresh lock of this warehouse."""
    lock_path = _lock_path(published)
    if not lock_path.exists():
        return False
    with open(lock_path, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def refresh_lock(
    published: Path,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """One refresh at a time per warehouse: schedule, sensor and a person may all start one.

    Runs started through Dagster queue in the instance's run queue; this lock covers the rest (a
    `seatshift refresh` beside a daemon run). The second refresh waits for the first (polling, so
    a signal still stops it), or with `wait=False` raises `RefreshAlreadyRunning`.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    message = f"another refresh of {published} is running"
    with open(_lock_path(published), "w") as lock_file:
        waiting = False
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as error:
                if not wait:
                    raise RefreshAlreadyRunning(message) from error
                if not waiting and on_wait is not None:
                    on_wait(f"{message}; waiting for it to end")
                waiting = True
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def mark_in_flight(published: Path, refresh_id: str, started_at: dt.datetime) -> None:
    path = settings.refresh_in_flight_path(published)
    record = {
        "refresh_id": refresh_id,
        "started_at": started_at.isoformat() + "Z",
        "pid": os.getpid(),
    }
    path.write_text(json.dumps(record) + "\n")


def clear_in_flight(published: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        settings.refresh_in_flight_path(published).unlink()


def recover_interrupted(published: Path) -> dict | None:
    """Clean up after a refresh that was killed or crashed; call only while holding the lock.

    Its in-flight record names it; whatever it left in the build folder (build file, WAL, spill
    folder) is removed, and the interruption is appended to the record the next publish copies
    into `audit.refresh_log`, and shown as the last attempt's status meanwhile.
    """
    in_flight = settings.refresh_in_flight_path(published)
    leftovers = _build_leftovers(published)
    if not in_flight.exists() and not leftovers:
        return None
    try:
        attempt = json.loads(in_flight.read_text()) if in_flight.exists() else {}
    except ValueError:
        attempt = {}
    freed = 0
    for path in leftovers:
        if path.is_dir():
            freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                freed += path.stat().st_size
                path.unlink()
    record = {
        "refresh_id": attempt.get("refresh_id") or "unknown",
        "started_at": attempt.get("started_at"),
        "detected_at": utc_now().isoformat() + "Z",
        "status": "interrupted",
        "reason": (
            "the refresh stopped before it finished (killed or crashed); "
            f"the next refresh removed what it left behind ({len(leftovers)} file(s), "
            f"{freed / 1e6:.1f} MB) and the published warehouse was never touched"
        ),
    }
    with open(settings.interrupted_refreshes_path(published), "a") as history:
        history.write(json.dumps(record) + "\n")
    write_refresh_status(
        published,
        refresh_id=record["refresh_id"],
        status="interrupted",
        started_at=as_naive_utc(record["started_at"]) or utc_now(),
        reason=record["reason"],
    )
    clear_in_flight(published)
    return record


def interrupted_refreshes(published: Path) -> list[dict]:
    path = settings.interrupted_refreshes_path(published)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def as_naive_utc(moment: str | None) -> dt.datetime | None:
    if not moment:
        return None
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00")).replace(tzinfo=None)


def pause_for_fault_injection(published: Path, stage: str) -> None:
    """With SEATSHIFT_FAULT_PAUSE_AT=<stage>, stop here until killed (the fault suite's hook)."""
    if stage != settings.fault_pause_at():
        return
    published.with_name(published.name + ".paused_at").write_text(stage)
    while True:
        time.sleep(1)


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
