"""What every subject's queries share: where the warehouse is, the short read-only read and its
cache, and the filters' SQL clauses.

The published warehouse is one DuckDB file that the refresh replaces atomically. DuckDB's file
locks are exclusive both ways, so each query opens the file read-only and closes it at
once: a reader that lingers would make the next publish fail. Results are cached on the file's
identity (inode, size, mtime) as well as a TTL, so a newly published build shows on the next rerun.
"""

from __future__ import annotations

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


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _cached_read(path: str, version: str, sql: str, params: tuple) -> pd.DataFrame:
    del version  # only part of the cache key
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql, list(params)).df()


def _read(what: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    current = warehouse()
    if not current.exists:
        raise QueryFailed(f"Could not read {what}.", f"No warehouse file at {current.path}.")
    try:
        return _cached_read(str(current.path), current.version, sql, params)
    except duckdb.Error as error:
        raise QueryFailed(f"Could not read {what}.", f"{type(error).__name__}: {error}") from error


def _period_clause(column: str, period: tuple | None) -> tuple[str, tuple]:
    if period is None:
        return "true", ()
    return f"{column} between ? and ?", (period[0], period[1])


def _segments_or_all(segments: tuple[str, ...]) -> list[str]:
    """The marts carry a precomputed `all` row; pooled figures are never re-added in pandas."""
    return list(segments) if segments else ["all"]
