"""Every query of the dashboard, and its caching. Pages hold no SQL.

The published warehouse is one DuckDB file that the refresh replaces atomically. DuckDB's file
locks are exclusive both ways (STACK.md), so each query opens the file read-only and closes it at
once: a reader that lingers would make the next publish fail. Results are cached on the file's
identity (inode, size, mtime) as well as a TTL, so a newly published build shows on the next rerun.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from lib.format import as_utc
from orchestration.lib import settings

CACHE_TTL = "10m"
EXAMPLES_PER_RULE = 3


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


@dataclass(frozen=True)
class RefreshAttempt:
    """The last refresh attempt, published or failed, from the status file beside the warehouse."""

    refresh_id: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    reason: str | None

    @property
    def failed(self) -> bool:
        return self.status != "published"


def warehouse() -> Warehouse:
    # Read on every rerun rather than at import: the env var may point elsewhere per test or server.
    path = settings.warehouse_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Warehouse(path, None)
    # os.replace gives the published file a new inode: a same-second publish still misses the cache.
    return Warehouse(path, f"{stat.st_ino}-{stat.st_size}-{stat.st_mtime_ns}")


def last_refresh_attempt() -> RefreshAttempt | None:
    status_path = settings.refresh_status_path(warehouse().path)
    if not status_path.exists():
        return None
    try:
        status = json.loads(status_path.read_text(encoding="utf-8"))
        return RefreshAttempt(
            refresh_id=status.get("refresh_id"),
            status=str(status.get("status") or "unknown"),
            started_at=as_utc(status.get("started_at")),
            finished_at=as_utc(status.get("finished_at")),
            reason=status.get("reason"),
        )
    except (OSError, ValueError, AttributeError) as error:
        raise QueryFailed(
            "The status of the last refresh attempt could not be read.",
            f"{status_path}: {error!r}",
        ) from error


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


def _refresh_params(refresh_id: str | None) -> tuple:
    # `refresh_id = None` means every refresh; SQL sees it twice (the null test and the match).
    return (refresh_id, refresh_id)


_IN_REFRESH = "(cast(? as varchar) is null or refresh_id = ?)"


# ---- freshness -------------------------------------------------------------------------------


def data_as_of() -> datetime | None:
    frame = _read(
        "the data's as-of time",
        "select max(data_as_of) as data_as_of from marts.rpt_data_as_of",
    )
    return as_utc(frame["data_as_of"].iloc[0]) if len(frame) else None


def refresh_history() -> pd.DataFrame:
    """One row per published refresh, newest first."""
    return _read(
        "the refresh history",
        """
        select
            refresh_id,
            started_at,
            finished_at,
            status,
            data_as_of,
            files_loaded,
            rows_loaded,
            rows_quarantined,
            message
        from audit.refresh_log
        order by finished_at desc nulls last, started_at desc
        """,
    )


def latest_refresh_id() -> str | None:
    """The refresh that published the build being served (refresh_log), else the newest load."""
    history = refresh_history()
    if len(history):
        return str(history["refresh_id"].iloc[0])
    newest_load = _read(
        "the load report",
        "select refresh_id from audit.load_report order by loaded_at desc nulls last limit 1",
    )
    return str(newest_load["refresh_id"].iloc[0]) if len(newest_load) else None


# ---- loads -----------------------------------------------------------------------------------


def load_totals(refresh_id: str | None) -> pd.Series:
    """files_loaded, files_skipped, files_rejected, rows_read/loaded/duplicate/quarantined."""
    frame = _read(
        "the load totals",
        f"""
        select
            count(*) filter (where status = 'loaded') as files_loaded,
            count(*) filter (where status = 'skipped_already_loaded') as files_skipped,
            count(*) filter (where status = 'rejected') as files_rejected,
            coalesce(sum(rows_read), 0) as rows_read,
            coalesce(sum(rows_loaded), 0) as rows_loaded,
            coalesce(sum(rows_duplicate), 0) as rows_duplicate,
            coalesce(sum(rows_quarantined), 0) as rows_quarantined
        from audit.load_report
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def load_report(refresh_id: str | None) -> pd.DataFrame:
    """One row per landing file seen by the refresh (all refreshes when refresh_id is None)."""
    return _read(
        "the load report",
        f"""
        select
            refresh_id,
            loaded_at,
            file_name,
            export,
            status,
            rows_read,
            rows_loaded,
            rows_duplicate,
            rows_quarantined,
            message,
            content_sha256
        from audit.load_report
        where {_IN_REFRESH}
        order by loaded_at desc nulls last, file_name
        """,
        _refresh_params(refresh_id),
    )


# ---- quarantine ------------------------------------------------------------------------------


def quarantine_by_rule(refresh_id: str | None) -> pd.DataFrame:
    return _read(
        "the quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        by_rule as (
            select
                export,
                rule,
                count(*) as rows_quarantined,
                count(distinct file_name) as files
            from quarantined
            group by export, rule
        )

        select * from by_rule
        order by rows_quarantined desc, export, rule
        """,
        _refresh_params(refresh_id),
    )


def quarantined_rows(refresh_id: str | None) -> pd.DataFrame:
    """Every column the loader keeps, for the download: the reader may need all of them."""
    return _read(
        "the quarantined rows",
        f"""
        select * from audit.quarantine
        where {_IN_REFRESH}
        order by export, file_name, row_number
        """,
        _refresh_params(refresh_id),
    )


def quarantine_examples(refresh_id: str | None, per_rule: int = EXAMPLES_PER_RULE) -> pd.DataFrame:
    """The first few quarantined rows of each export and rule: what a broken row looks like."""
    return _read(
        "examples of quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        ranked as (
            select
                export,
                rule,
                file_name,
                row_number,
                raw_record,
                row_number() over (
                    partition by export, rule order by file_name, row_number
                ) as example_rank
            from quarantined
        )

        select * exclude (example_rank) from ranked
        where example_rank <= ?
        order by export, rule, example_rank
        """,
        (*_refresh_params(refresh_id), per_rule),
    )


# ---- expectations ----------------------------------------------------------------------------


def expectation_totals(refresh_id: str | None) -> pd.Series:
    """expectations_run, expectations_failed, critical_failed."""
    frame = _read(
        "the expectation results",
        f"""
        select
            count(*) as expectations_run,
            count(*) filter (where not success) as expectations_failed,
            count(*) filter (where not success and is_critical) as critical_failed
        from audit.expectation_results
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def expectation_results(refresh_id: str | None) -> pd.DataFrame:
    """Failed first, critical before warning, so the reader starts with what blocked a build."""
    return _read(
        "the expectation results",
        f"""
        select
            case
                when success then 'passed'
                when is_critical then 'FAILED (critical)'
                else 'failed (warning)'
            end as outcome,
            success,
            is_critical,
            export,
            relation,
            expectation_type,
            column_name,
            element_count,
            unexpected_count,
            unexpected_count / nullif(element_count, 0) as unexpected_rate,
            unexpected_examples,
            details,
            refresh_id,
            validated_at
        from audit.expectation_results
        where {_IN_REFRESH}
        order by success, is_critical desc, export, expectation_type, column_name
        """,
        _refresh_params(refresh_id),
    )


# ---- sidebar filters -------------------------------------------------------------------------


def segments() -> list[str]:
    frame = _read(
        "the segments",
        "select distinct segment from marts.fct_account_month where segment is not null order by 1",
    )
    return [str(segment) for segment in frame["segment"]]


def months() -> list[datetime]:
    frame = _read(
        "the months",
        "select distinct month from marts.fct_account_month where month is not null order by 1",
    )
    return [pd.Timestamp(month).to_pydatetime() for month in frame["month"]]


def clear_cache() -> None:
    _cached_read.clear()
