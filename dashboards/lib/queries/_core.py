"""What every subject's queries share: where the warehouse is, the read-only read and its cache,
and the filters' SQL clauses.

The published warehouse is one DuckDB file that the refresh replaces atomically (`os.replace`: a
new file, never a write into the one readers have open). Results are cached on the file's
identity (inode, size, mtime) as well as a TTL, so a newly published build shows on the next rerun.

Opening a DuckDB database costs about 35-60 ms on this project's machine, whatever its size (the
instance registers every built-in function), which was most of a typical query's time. So in
the dashboard's server (or wherever `keep_attached(True)` was called) one in-memory instance per
process keeps the published file attached read-only, and each read is a cursor of it: about
1 ms, with the file's blocks still in DuckDB's buffer pool. A new build is a new file: the next
read attaches it in place of the old one once no read of the old one is running (until then a
read opens the file on its own, as everywhere else). DuckDB refuses a second handle on a file
attached in the same process, so a process that also writes warehouse files (the tests, a
command) reads the old way, each query opening and closing the file.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from orchestration.lib import settings

CACHE_TTL = "10m"


class QueryFailed(Exception):
    """A query could not run: `sentence` is for the reader, `details` for the expander."""

    def __init__(self, sentence: str, details: str) -> None:
        super().__init__(f"{sentence} {details}")
        self.sentence = sentence
        self.details = details


@dataclass(frozen=True)
class Warehouse:
    path: Path
    version: str | None  # identity of the published file; None while there is none

    @property
    def exists(self) -> bool:
        return self.version is not None


def warehouse() -> Warehouse:
    # Read on every rerun rather than at import: the env var may point elsewhere per test or server.
    path = settings.warehouse_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Warehouse(path, None)
    # os.replace gives the published file a new inode: a same-second publish still misses the cache.
    return Warehouse(path, f"{stat.st_ino}-{stat.st_size}-{stat.st_mtime_ns}")


class _Attachment:
    """The published file one process's reading instance has attached, and the reads using it."""

    def __init__(self, path: str, version: str, alias: str) -> None:
        self.path, self.version, self.alias = path, version, alias
        self.readers = 0


_GUARD = threading.Lock()  # over the four below
_keep = False
_instance: duckdb.DuckDBPyConnection | None = None
_attached: _Attachment | None = None
_aliases = itertools.count(1)


def keep_attached(keep: bool) -> None:
    """Read through one instance that keeps the published file attached (the server), or open the
    file for each read (False, the default outside the server). Switching off detaches it."""
    global _keep
    with _GUARD:
        _keep = keep
    if not keep:
        _detach()


def _detach_unread() -> None:
    """Detach the kept file unless a read is using it (call holding _GUARD)."""
    global _attached
    if _attached is not None and _attached.readers == 0:
        assert _instance is not None
        _instance.execute(f"detach {_attached.alias}")
        _attached = None


def _detach() -> None:
    """Detach the kept file when no read uses it (a cache cleared: the next read attaches it
    again, as the first read after a publish does)."""
    with _GUARD:
        _detach_unread()


@contextmanager
def _connection(path: str, version: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published file of `version`: a cursor of the kept
    attachment, or the file opened for this read alone."""
    global _instance, _attached
    attachment = None
    with _GUARD:
        if _keep:
            if _attached is not None and (_attached.path, _attached.version) != (path, version):
                _detach_unread()  # a newer build: let the old file go once nobody reads it
            if _attached is None:
                if _instance is None:
                    _instance = duckdb.connect(
                        config={"memory_limit": settings.duckdb_memory_limit()}
                    )
                alias = f"published_{next(_aliases)}"
                escaped = path.replace("'", "''")
                _instance.execute(f"attach '{escaped}' as {alias} (read_only)")
                _attached = _Attachment(path, version, alias)
            if (_attached.path, _attached.version) == (path, version):
                attachment = _attached
                attachment.readers += 1
    if attachment is None:
        with duckdb.connect(path, read_only=True) as connection:
            yield connection
        return
    try:
        assert _instance is not None
        with _instance.cursor() as cursor:
            cursor.execute(f"use {attachment.alias}")
            yield cursor
    finally:
        with _GUARD:
            attachment.readers -= 1


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _cached_read(path: str, version: str, sql: str, params: tuple) -> pd.DataFrame:
    with _connection(path, version) as connection:
        return connection.execute(sql, list(params)).df()


def _read(what: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    current = warehouse()
    if not current.exists:
        raise QueryFailed(f"Could not read {what}.", f"No warehouse file at {current.path}.")
    try:
        return _cached_read(str(current.path), current.version, sql, params)
    except duckdb.Error as error:
        raise QueryFailed(
            f"Could not read {what}." + _older_build_hint(error),
            f"{type(error).__name__}: {error}",
        ) from error


def _older_build_hint(error: duckdb.Error) -> str:
    """A column or table the query names that the published build does not have: the build is
    older than this dashboard's code (an upgrade not yet refreshed), which the reader can fix."""
    if isinstance(error, duckdb.BinderException | duckdb.CatalogException) and (
        "not found" in str(error) or "does not exist" in str(error)
    ):
        return (
            " The published warehouse lacks it: a build older than this version of the "
            "dashboard, or none yet. Run a refresh (`seatshift refresh`) to build it with the "
            "current models."
        )
    return ""


def _period_clause(column: str, period: tuple | None) -> tuple[str, tuple]:
    if period is None:
        return "true", ()
    return f"{column} between ? and ?", (period[0], period[1])


def _segments_or_all(segments: tuple[str, ...]) -> list[str]:
    """The marts carry a precomputed `all` row; pooled figures are never re-added in pandas."""
    return list(segments) if segments else ["all"]
