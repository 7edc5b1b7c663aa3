"""The loader: landing folder -> DuckDB raw tables, quarantine and load report.

It compiles the export contract (`orchestration.lib.contract`): the landing folder
(`landing.py`), the readers of each format and encoding (`readers.py`), the value rules
(`values.py`), the rules between rows and the seat replay (`cross_row.py`) and the insert of
clean rows, quarantined rows and the report (`insert.py`), one file at a time (`files.py`).
"""

from orchestration.lib.contract.audit import LOADED, REJECTED, SKIPPED
from orchestration.lib.contract.rules import MALFORMED_ROW as _MALFORMED_ROW
from orchestration.lib.loader.files import (
    ensure_warehouse_schema,
    load_export,
    plausible_window,
    refresh_started_at,
    reject_unrecognised,
)
from orchestration.lib.loader.insert import FileReport
from orchestration.lib.loader.landing import (
    file_sha256,
    landing_files,
    landing_listing,
    parse_file_name,
)

MALFORMED_ROW = _MALFORMED_ROW.name

__all__ = [
    "LOADED",
    "MALFORMED_ROW",
    "REJECTED",
    "SKIPPED",
    "FileReport",
    "ensure_warehouse_schema",
    "file_sha256",
    "landing_files",
    "landing_listing",
    "load_export",
    "parse_file_name",
    "plausible_window",
    "refresh_started_at",
    "reject_unrecognised",
]
