"""What a validation found, and where it is kept: `audit.expectation_results` in the warehouse,
and a summary beside the export's Data Docs site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import docs_site
from orchestration.lib.contract.audit import AUDIT_TABLES, AUDIT_UPGRADES, EXPECTATION_RESULTS

RESULTS_TABLE = EXPECTATION_RESULTS
RESULTS_DDL = [
    "create schema if not exists audit",
    AUDIT_TABLES[EXPECTATION_RESULTS],
    *[statement for statement in AUDIT_UPGRADES if EXPECTATION_RESULTS in statement],
]
RESULT_FIELDS = (
    "refresh_id",
    "export",
    "relation",
    "expectation_type",
    "column_name",
    "rule",
    "is_critical",
    "success",
    "element_count",
    "unexpected_count",
    "unexpected_examples",
    "details",
    "validated_at",
)

# Our site only: building every site would also fill the ephemeral context's default temp folder.
DOCS_SITE = "seatshift"
OUTCOME_FILE = docs_site.OUTCOME_FILE  # per-export summary the top-level docs index reads


@dataclass
class ValidationOutcome:
    export: str
    relation: str
    refresh_id: str | None
    success: bool  # every critical expectation passed
    results: list[dict[str, Any]]  # one dict per expectation, keys = RESULT_FIELDS
    critical_failures: list[str]  # one readable line per failed critical expectation
    warnings: list[str] = field(default_factory=list)  # failed non-critical expectations
    validated_at: datetime | None = None  # UTC, naive like every timestamp of the warehouse
    docs_index: Path | None = None  # the export's Data Docs page, when built


def record_outcome(conn: duckdb.DuckDBPyConnection, outcome: ValidationOutcome) -> None:
    """Append the per-expectation results to audit.expectation_results (created if missing)."""
    for statement in RESULTS_DDL:
        conn.execute(statement)
    if not outcome.results:
        return
    columns = ", ".join(RESULT_FIELDS)
    placeholders = ", ".join("?" for _ in RESULT_FIELDS)
    conn.executemany(
        f"insert into {RESULTS_TABLE} ({columns}) values ({placeholders})",
        [[row[name] for name in RESULT_FIELDS] for row in outcome.results],
    )


def write_docs_index(docs_dir: Path, outcome: ValidationOutcome) -> None:
    """The export's summary beside its site, and the page over every export's site."""
    summary = {
        "export": outcome.export,
        "relation": outcome.relation,
        "refresh_id": outcome.refresh_id,
        "success": outcome.success,
        "validated_at": outcome.validated_at,
        "critical_failures": outcome.critical_failures,
        "warnings": outcome.warnings,
    }
    (docs_dir / outcome.export / OUTCOME_FILE).write_text(as_json(summary))
    docs_site.write_data_docs_index(docs_dir)


def as_json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)
