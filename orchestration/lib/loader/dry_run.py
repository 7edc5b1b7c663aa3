"""A dry run of the load (`seatshift check`): what a refresh would do with a landing folder.

The loader itself judges every file, on a scratch copy of the published warehouse (so a file
already loaded, a duplicate of a loaded row and a key that names a loaded row are judged as the
refresh would judge them), and the scratch copy is removed afterwards: nothing is built, the
published warehouse and the landing folder are untouched. The rules are the load's own, never a
copy of them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib import lake as lake_parts
from orchestration.lib import settings, warehouse
from orchestration.lib.contract import EXPORTS, LOAD_ORDER
from orchestration.lib.contract.audit import QUARANTINE, REJECTED
from orchestration.lib.loader.files import load_export, reject_unrecognised
from orchestration.lib.loader.insert import FileReport
from orchestration.lib.loader.landing import landing_files


@dataclass(frozen=True)
class FileVerdict:
    """What the load would do with one landing file."""

    report: FileReport  # status, rows read / loaded / duplicate / quarantined, message
    rules: dict[str, int] = field(default_factory=dict)  # quarantined rows by the rule they broke
    first_month: dt.date | None = None  # the months its loaded rows cover, by the export's
    last_month: dt.date | None = None  # time column (time_column_of)

    @property
    def rejected(self) -> bool:
        return self.report.status == REJECTED


def time_column_of(export: str) -> str | None:
    """The column that places an export's row in time: its first timestamp or date column."""
    return next(
        (column.name for column in EXPORTS[export].columns if column.type in ("timestamp", "date")),
        None,
    )


def dry_run(landing: Path, published: Path | None) -> list[FileVerdict]:
    """Every landing file's verdict, in load order (unrecognised files first)."""
    with tempfile.TemporaryDirectory(prefix="seatshift-check-") as folder:
        scratch = Path(folder) / "check.duckdb"
        if published is not None and published.exists():
            shutil.copyfile(published, scratch)
        conn = duckdb.connect(str(scratch))
        try:
            if published is not None and published.exists():
                # the published warehouse's parts, where they are now (moved with the warehouse
                # since its last refresh, the list still names the old folder)
                lake_parts.read_parts_from(conn, settings.lake_dir(published))
            conn.execute("set TimeZone = 'UTC'")
            conn.execute(f"set memory_limit = '{settings.duckdb_memory_limit()}'")
            conn.execute(f"set temp_directory = '{Path(folder) / 'spill'}'")
            refresh_id = warehouse.new_refresh_id()
            files = landing_files(landing)
            reports = reject_unrecognised(conn, files.get(None, []), refresh_id)
            for export in LOAD_ORDER:
                reports += load_export(conn, landing, export, refresh_id)
            return [_verdict(conn, refresh_id, report) for report in reports]
        finally:
            conn.close()


def _verdict(conn: duckdb.DuckDBPyConnection, refresh_id: str, report: FileReport) -> FileVerdict:
    rules = dict(
        conn.execute(
            f"""select rule, count(*) from {QUARANTINE}
            where refresh_id = ? and file_name = ? group by rule order by rule""",
            [refresh_id, report.file_name],
        ).fetchall()
    )
    first = last = None
    column = time_column_of(report.export) if report.export else None
    if column and report.rows_loaded:
        first, last = conn.execute(
            f"""select min(date_trunc('month', {column}))::date,
                max(date_trunc('month', {column}))::date
            from {EXPORTS[report.export].relation}
            where _refresh_id = ? and _file_name = ?""",
            [refresh_id, report.file_name],
        ).fetchone()
    return FileVerdict(report, rules, first, last)
