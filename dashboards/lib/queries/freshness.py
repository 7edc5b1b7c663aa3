"""How fresh the served build is: its as-of time, the refreshes that published it, and the
last refresh attempt (published or failed) from the status file beside the warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dashboards.lib.format import as_utc
from orchestration.lib import settings

from ._core import QueryFailed, _read, warehouse


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
