"""The loader under its first name: `orchestration.lib.loader` is where it lives now.

Kept so that `from orchestration.lib import ingest` (the Dagster definitions, tests) goes on
working; new code imports `orchestration.lib.loader`.
"""

from orchestration.lib.loader import (
    LOADED,
    MALFORMED_ROW,
    REJECTED,
    SKIPPED,
    FileReport,
    ensure_warehouse_schema,
    file_sha256,
    landing_files,
    landing_listing,
    load_export,
    parse_file_name,
    plausible_window,
    refresh_started_at,
    reject_unrecognised,
)

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
