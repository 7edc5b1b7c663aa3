"""The audit trail: who downloaded what, when, with which filters.

One JSON line per download in `<warehouse>.audit_trail.jsonl`, beside the published warehouse
(settings.audit_trail_path). A refresh replaces the warehouse file and cleans only its build
folder, so the trail outlives every refresh; lines are only ever appended, each with a single
`write` on a file opened with O_APPEND, so two sessions downloading at once do not interleave.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.lib import settings

# The trail's columns, in the order the Data health table and its export show them.
COLUMNS = (
    "recorded_at",  # UTC, ISO 8601: when the download was clicked
    "email",  # the signed-in reader; empty when sign-in is not configured (local use)
    "roles",  # the reader's roles at that moment, comma-separated
    "page",  # the dashboard page the download was on
    "download",  # the button's label: what left
    "file_name",  # the file the reader received
    "rows",  # rows of a table download; empty for a file such as the decision pack
    "filters",  # JSON: the sidebar's segments and period, and the page's own choices
)


PAGE_KEY = "_seatshift_page"  # the router keeps the current page's title here for the trail


@dataclass(frozen=True)
class Download:
    page: str
    download: str
    file_name: str
    rows: int | None
    filters: dict[str, Any]


def trail_path() -> Path:
    return settings.audit_trail_path(settings.warehouse_path())


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    entry: Download, email: str | None, roles: frozenset[str] | set[str], path: Path | None = None
) -> dict[str, Any]:
    """Append one line to the trail and return it."""
    line = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "email": email or "",
        "roles": ",".join(sorted(roles)),
        **asdict(entry),
        "filters": _plain(entry.filters),
    }
    path = path or trail_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, sort_keys=False) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    return line


def read_trail(path: Path | None = None) -> pd.DataFrame:
    """Every recorded download, newest first; filters as JSON text."""
    path = path or trail_path()
    rows = []
    if path.exists():
        for text in path.read_text(encoding="utf-8").splitlines():
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError:  # a line cut short by a full disk: keep the rest readable
                continue
            row["filters"] = json.dumps(row.get("filters") or {}, sort_keys=True)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
    return frame.sort_values("recorded_at", ascending=False, kind="stable").reset_index(drop=True)
