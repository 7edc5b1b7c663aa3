"""Insert: clean rows into the raw table (duplicates left out), bad rows into the quarantine,
and one load report row per file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from orchestration.lib.contract import LINEAGE_COLUMNS, MALFORMED_ROW, Export
from orchestration.lib.contract.audit import LOAD_REPORT, QUARANTINE
from orchestration.lib.contract.sql import literal, quote


@dataclass(frozen=True)
class FileReport:
    """One row of audit.load_report."""

    file_name: str
    export: str | None
    content_sha256: str | None
    status: str  # loaded | skipped_already_loaded | rejected
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    message: str | None
    file_size_bytes: int | None = None
    file_mtime_ns: int | None = None


def write_report(conn: duckdb.DuckDBPyConnection, refresh_id: str, report: FileReport) -> None:
    conn.execute(
        f"""insert into {LOAD_REPORT} (
            refresh_id, file_name, export, content_sha256, status, rows_read, rows_loaded,
            rows_duplicate, rows_quarantined, message, loaded_at, file_size_bytes, file_mtime_ns
        ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            refresh_id,
            report.file_name,
            report.export,
            report.content_sha256,
            report.status,
            report.rows_read,
            report.rows_loaded,
            report.rows_duplicate,
            report.rows_quarantined,
            report.message,
            datetime.now(UTC).replace(tzinfo=None),
            report.file_size_bytes,
            report.file_mtime_ns,
        ],
    )


def quarantine_rule_breakers(
    conn: duckdb.DuckDBPyConnection,
    source_sql: str,
    raw_record: str,
    lineage: list[str],
) -> None:
    """Rows of `_checked` that broke a rule, with their original values; params: lineage."""
    conn.execute(
        f"""insert into {QUARANTINE}
            (refresh_id, export, file_name, row_number, rule, raw_record, rules)
        select ?, ?, ?, bad.__row_number, bad.__rules[1], {raw_record}, bad.__rules
        from ({source_sql}) as source
        inner join (select __row_number, __rules from _checked where len(__rules) > 0) as bad
            on source.__row_number = bad.__row_number
        order by bad.__row_number""",
        lineage,
    )


def quarantine_malformed(
    conn: duckdb.DuckDBPyConnection, malformed_sql: str, lineage: list[str]
) -> int:
    """Rows the reader could not parse, as `malformed_row`; returns how many."""
    return conn.execute(
        f"""insert into {QUARANTINE}
            (refresh_id, export, file_name, row_number, rule, raw_record, rules)
        select ?, ?, ?, row_number, ?, raw_record, [?]
        from ({malformed_sql})
        order by row_number""",
        [*lineage, MALFORMED_ROW.name, MALFORMED_ROW.name],
    ).fetchall()[0][0]


def new_rows_sql(export: Export, refresh_id: str, file_name: str, loaded_at: datetime) -> str:
    """The clean rows that are not duplicate deliveries, as the raw relation's columns (contract
    columns, then lineage): what the load writes as the file's new parts."""
    key = ", ".join(quote(name) for name in export.key)
    key_match = " and ".join(f"loaded.{quote(name)} = clean.{quote(name)}" for name in export.key)
    contract_columns = ", ".join(quote(name) for name in export.column_names)
    if export.latest_wins_by is None:
        # First delivery wins: a key already loaded, or seen earlier in this file, is a duplicate.
        # A grouped min is a hash aggregate (a row_number window would sort the whole file); the
        # history is probed with the file's keys alone (its key column, nothing else), and the
        # rows are fetched once, by number, straight from the judged rows: a `clean` step read
        # twice is materialised with every column, which cost as much as the probe itself.
        first_match = " and ".join(
            f"loaded.{quote(name)} = firsts.{quote(name)}" for name in export.key
        )
        new_rows = f"""select clean.* from _checked as clean
            semi join (
                select firsts.first_row
                from (
                    select {key}, min(__row_number) as first_row
                    from _checked
                    where len(__rules) = 0
                    group by {key}
                ) as firsts
                anti join (select {key} from {export.relation}) as loaded on {first_match}
            ) as fresh on clean.__row_number = fresh.first_row"""
    else:
        # Snapshots keep every version; a version no newer than one already known is a duplicate.
        version = quote(export.latest_wins_by)
        new_rows = f"""select clean.*
            from (select * from _checked where len(__rules) = 0) as clean
            left join (
                select {key}, max({version}) as latest_version
                from {export.relation}
                group by all
            ) as loaded on {key_match}
            where loaded.latest_version is null or clean.{version} > loaded.latest_version
            qualify coalesce(
                max(clean.{version}) over (
                    partition by {", ".join(f"clean.{quote(name)}" for name in export.key)}
                    order by clean.__row_number
                    rows between unbounded preceding and 1 preceding
                ) < clean.{version},
                true
            )"""
    lineage = {
        "_refresh_id": literal(refresh_id),
        "_file_name": literal(file_name),
        "_row_number": "__row_number",
        "_loaded_at": literal(loaded_at.isoformat(sep=" ")),
        "_extra": "__extra",
    }
    lineage_select = ", ".join(
        f"cast({lineage[name]} as {sql_type}) as {name}"
        for name, sql_type in LINEAGE_COLUMNS.items()
    )
    return f"""with
        new_rows as ({new_rows})
        select {contract_columns}, {lineage_select}
        from new_rows"""
