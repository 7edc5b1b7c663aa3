"""The loader: landing folder -> DuckDB raw tables, quarantine and load report.

Enforces shared/contracts/exports.md with the contract as data (`contract.py`). Every file is read
by DuckDB's own readers and checked with one SQL projection (a list of broken rule names per row),
so a usage file of tens of millions of rows never passes through Python row by row. Each file is
one transaction: its raw rows, its quarantined rows and its load report row commit together.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.contract import (
    AUDIT_DDL,
    EXPORTS,
    FILE_EXTENSIONS,
    LINEAGE_COLUMNS,
    Column,
    Export,
    raw_table_ddl,
)

LOADED = "loaded"
SKIPPED = "skipped_already_loaded"
REJECTED = "rejected"
MALFORMED_ROW = "malformed_row"

# Longest first, so `x.csv.gz` is recognised as csv.gz and not as an unknown `.gz`.
_EXTENSIONS = sorted(FILE_EXTENSIONS, key=len, reverse=True)

# Extra audit column (contract.AUDIT_DDL is shared, not ours to edit): every rule a bad row
# broke, while `rule` keeps the first one for people scanning the table.
_AUDIT_EXTRA_DDL = ["alter table audit.quarantine add column if not exists rules varchar[]"]

# ISO 8601 with a time and an explicit offset; DuckDB would silently read a naive value in the
# session time zone, so the offset is checked by pattern before the value is cast.
_OFFSET_PATTERN = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)"
_INTEGER_PATTERN = r"[+-]?\d+"
_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
# Storage scale per logical type; the file may not carry more significant decimals than this.
_SCALES = {"money": 4, "decimal": 8}
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")

# How each seat event type moves billable seats (exports.md, seat_events).
_SEAT_DELTA_SQL = """case event_type
            when 'seat_added' then quantity
            when 'seat_reactivated' then quantity
            when 'seat_removed' then -quantity
            when 'seat_suspended' then -quantity
            else 0
        end"""


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


# Errors that mean our SQL is wrong, not the file: they must surface, not become a rejection.
_OUR_BUGS = (
    duckdb.BinderException,
    duckdb.ParserException,
    duckdb.CatalogException,
    duckdb.InternalException,
    duckdb.NotImplementedException,
)


class _FileRejected(Exception):
    """The whole file is refused; the message names the file and what is wrong."""


# --------------------------------------------------------------------------- files and schema


def ensure_warehouse_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schemas and tables and the audit tables; safe to run on every refresh."""
    for schema in sorted({export.schema for export in EXPORTS.values()}):
        conn.execute(f"create schema if not exists {schema}")
    for export in EXPORTS.values():
        conn.execute(raw_table_ddl(export))
    for statement in AUDIT_DDL + _AUDIT_EXTRA_DDL:
        conn.execute(statement)


def parse_file_name(name: str) -> tuple[str | None, str | None]:
    """(export, extension) of `<export>__<anything>.<ext>`; export is None when it is no export."""
    extension = next((ext for ext in _EXTENSIONS if name.endswith(f".{ext}")), None)
    if extension is None or "__" not in name:
        return None, extension
    export = name.split("__", 1)[0]
    return (export if export in EXPORTS else None), extension


def landing_files(landing_dir: Path) -> dict[str | None, list[Path]]:
    """Landing files by export (None: matches no export or extension), each list sorted by name."""
    files: dict[str | None, list[Path]] = {}
    if not landing_dir.is_dir():
        return files
    for path in sorted(landing_dir.iterdir(), key=lambda path: path.name):
        if path.name.startswith(("_", ".")) or not path.is_file():
            continue
        export, _ = parse_file_name(path.name)
        files.setdefault(export, []).append(path)
    return files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def reject_unrecognised(
    conn: duckdb.DuckDBPyConnection, files: list[Path], refresh_id: str
) -> list[FileReport]:
    """Report files that match no export name or accepted extension, so none is silently ignored."""
    ensure_warehouse_schema(conn)
    reports = []
    for path in files:
        export_part = path.name.split("__", 1)[0] if "__" in path.name else None
        _, extension = parse_file_name(path.name)
        if extension is None:
            why = f"extension is not one of {', '.join(FILE_EXTENSIONS)}"
        elif export_part is None:
            why = "name is not <export>__<anything>.<ext>"
        else:
            why = f"'{export_part}' is not an export (expected one of {', '.join(EXPORTS)})"
        report = FileReport(
            path.name, None, file_sha256(path), REJECTED, 0, 0, 0, 0, f"{path.name}: {why}"
        )
        _write_report(conn, refresh_id, report)
        reports.append(report)
    return reports


def load_export(
    conn: duckdb.DuckDBPyConnection, landing_dir: Path, export: str, refresh_id: str
) -> list[FileReport]:
    """Load every new file of one export in name order; one load_report row per file."""
    spec = EXPORTS[export]
    ensure_warehouse_schema(conn)
    # Timestamps with an offset become naive UTC; row numbers of CSV/JSON rely on insertion order.
    conn.execute("set TimeZone = 'UTC'")
    conn.execute("set preserve_insertion_order = true")
    reports = []
    for path in landing_files(landing_dir).get(export, []):
        report = _load_file(conn, spec, path, refresh_id)
        reports.append(report)
    return reports


# --------------------------------------------------------------------------- one file


def _load_file(
    conn: duckdb.DuckDBPyConnection, export: Export, path: Path, refresh_id: str
) -> FileReport:
    sha = file_sha256(path)
    earlier = conn.execute(
        """select file_name, refresh_id from audit.load_report
        where export = ? and content_sha256 = ? and status = ?
        order by loaded_at limit 1""",
        [export.name, sha, LOADED],
    ).fetchall()
    if earlier:
        message = f"same content as {earlier[0][0]}, loaded in refresh {earlier[0][1]}"
        report = FileReport(path.name, export.name, sha, SKIPPED, 0, 0, 0, 0, message)
        _write_report(conn, refresh_id, report)
        return report

    conn.begin()
    try:
        report = _load_file_rows(conn, export, path, sha, refresh_id)
        _write_report(conn, refresh_id, report)
        _drop_work_tables(conn)
        conn.commit()
    except (_FileRejected, duckdb.Error) as error:
        conn.rollback()
        if isinstance(error, _OUR_BUGS):
            raise
        message = str(error) if isinstance(error, _FileRejected) else _unreadable(path, error)
        report = FileReport(path.name, export.name, sha, REJECTED, 0, 0, 0, 0, message)
        _write_report(conn, refresh_id, report)
    return report


def _unreadable(path: Path, error: duckdb.Error) -> str:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{path.name}: cannot be parsed: {first_line}"


def _load_file_rows(
    conn: duckdb.DuckDBPyConnection, export: Export, path: Path, sha: str, refresh_id: str
) -> FileReport:
    _, extension = parse_file_name(path.name)
    source_sql, source_types, malformed_sql = _stage_source(conn, path, extension or "")
    missing = [
        column.name
        for column in export.columns
        if not column.optional and column.name not in source_types
    ]
    # An empty JSONL file has no keys to check: it is a file with no rows, not a broken one.
    if missing and not (extension.startswith("jsonl") and not source_types):
        raise _FileRejected(
            f"{path.name}: missing column(s) {', '.join(missing)} of export {export.name}"
        )
    conn.execute(_checked_sql(export, source_sql, source_types))
    if export.name == "seat_events":
        _quarantine_seats_below_zero(conn)

    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    lineage = [refresh_id, path.name, loaded_at]
    counts = conn.execute(
        "select count(*), count(*) filter (where len(__rules) > 0) from _checked"
    ).fetchall()[0]
    if counts[1]:
        # The original values are rebuilt only for bad rows: JSON of every row costs more than
        # all the rule checks together on a large file.
        if extension.startswith("jsonl"):
            raw_record = "source.__raw_record"
        else:
            empty_as = "" if extension.startswith("csv") else None
            raw_record = _json_of(list(source_types), empty_as, relation="source")
        conn.execute(
            f"""insert into audit.quarantine
                (refresh_id, export, file_name, row_number, rule, raw_record, rules)
            select ?, ?, ?, bad.__row_number, bad.__rules[1], {raw_record}, bad.__rules
            from ({source_sql}) as source
            inner join (select __row_number, __rules from _checked where len(__rules) > 0) as bad
                on source.__row_number = bad.__row_number
            order by bad.__row_number""",
            [refresh_id, export.name, path.name],
        )
    malformed = 0
    if malformed_sql:
        malformed = conn.execute(
            f"""insert into audit.quarantine
                (refresh_id, export, file_name, row_number, rule, raw_record, rules)
            select ?, ?, ?, row_number, ?, raw_record, [?]
            from ({malformed_sql})""",
            [refresh_id, export.name, path.name, MALFORMED_ROW, MALFORMED_ROW],
        ).fetchall()[0][0]

    loaded = conn.execute(_insert_sql(export), lineage).fetchall()[0][0]
    rows_read = counts[0] + malformed
    quarantined = counts[1] + malformed
    return FileReport(
        file_name=path.name,
        export=export.name,
        content_sha256=sha,
        status=LOADED,
        rows_read=rows_read,
        rows_loaded=loaded,
        rows_duplicate=rows_read - loaded - quarantined,
        rows_quarantined=quarantined,
        message=None,
    )


def _write_report(conn: duckdb.DuckDBPyConnection, refresh_id: str, report: FileReport) -> None:
    conn.execute(
        """insert into audit.load_report (
            refresh_id, file_name, export, content_sha256, status, rows_read, rows_loaded,
            rows_duplicate, rows_quarantined, message, loaded_at
        ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
        ],
    )


def _drop_work_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in ("_checked", "_landing_rows", "_csv_rejects", "_csv_reject_scans", "_seat_blamed"):
        conn.execute(f"drop table if exists {table}")


# --------------------------------------------------------------------------- reading


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_of(columns: list[str], empty_as: str | None = None, relation: str = "") -> str:
    """SQL for a JSON object of the named columns (CSV has no null: its empty field is '')."""
    if not columns:
        return "null"
    prefix = f"{relation}." if relation else ""
    fields = ", ".join(
        f"{_q(name)} := "
        + (
            f"coalesce({prefix}{_q(name)}, {_lit(empty_as)})"
            if empty_as is not None
            else f"{prefix}{_q(name)}"
        )
        for name in columns
    )
    return f"to_json(struct_pack({fields}))::varchar"


def _column_types(conn: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, str]:
    return {row[0]: row[1] for row in conn.execute(f"describe {relation_sql}").fetchall()}


def _ordinal_sql(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    """1-based position of a row in a freshly filled temp table (rowids follow insertion order)."""
    low, high, count = conn.execute(
        f"select min(rowid), max(rowid), count(*) from {table}"
    ).fetchall()[0]
    if count == 0 or high - low + 1 == count:
        return f"(rowid - {low or 0} + 1)"
    return "row_number() over (order by rowid)"


def _stage_source(
    conn: duckdb.DuckDBPyConnection, path: Path, extension: str
) -> tuple[str, dict[str, str], str | None]:
    """(select with __row_number, __raw_record and the file's columns; their types; malformed rows).

    The select carries the file's own column names and types; the malformed select (CSV only)
    yields row_number and raw_record of rows DuckDB's CSV reader could not split into fields.
    """
    compression = "gzip" if extension.endswith(".gz") else "none"
    if extension == "parquet":
        relation = f"read_parquet({_lit(str(path))}, file_row_number = true)"
        types = _column_types(conn, f"select * exclude (file_row_number) from {relation}")
        source = f"""select
            file_row_number + 1 as __row_number,
            * exclude (file_row_number)
        from {relation}"""
        return source, types, None
    if extension.startswith("jsonl"):
        return _stage_jsonl(conn, path, compression)
    return _stage_csv(conn, path, compression)


def _stage_csv(
    conn: duckdb.DuckDBPyConnection, path: Path, compression: str
) -> tuple[str, dict[str, str], str | None]:
    conn.execute("drop table if exists _csv_rejects")
    conn.execute("drop table if exists _csv_reject_scans")
    conn.execute(
        f"""create temp table _landing_rows as
        select * from read_csv(
            ?, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true,
            compression = '{compression}', encoding = 'utf-8', store_rejects = true,
            rejects_table = '_csv_rejects', rejects_scan = '_csv_reject_scans'
        )""",
        [str(path)],
    )
    types = _column_types(conn, "_landing_rows")
    ordinal = _ordinal_sql(conn, "_landing_rows")
    rejected = conn.execute("select count(distinct line) from _csv_rejects").fetchall()[0][0]
    if not rejected:
        source = f"""select
            {ordinal} as __row_number, *
        from _landing_rows"""
        return source, types, None
    # Good rows fill the gaps between rejected rows: good row k comes after rejected row i when
    # fewer than k good rows precede it (its data row minus i), so add the count of such rows.
    source = f"""with
        rejected as (
            select distinct line - 1 as data_row from _csv_rejects
        ),
        rejected_ranked as (
            select data_row, row_number() over (order by data_row) as rejected_before
            from rejected
        ),
        gaps as (
            select
                data_row - rejected_before as good_before,
                max(rejected_before) as rejected_before
            from rejected_ranked
            group by all
        ),
        good as (
            select {ordinal} as __good_row, * from _landing_rows
        )
        select
            good.__good_row + coalesce(gaps.rejected_before, 0) as __row_number,
            good.* exclude (__good_row)
        from good
        asof left join gaps on good.__good_row > gaps.good_before"""
    malformed = """select
            line - 1 as row_number,
            to_json({'_csv_line': any_value(csv_line), '_error': min(error_message)})::varchar
                as raw_record
        from _csv_rejects
        group by line"""
    return source, types, malformed


def _stage_jsonl(
    conn: duckdb.DuckDBPyConnection, path: Path, compression: str
) -> tuple[str, dict[str, str], str | None]:
    conn.execute(
        f"""create temp table _landing_rows as
        select json from read_ndjson_objects(?, compression = '{compression}')""",
        [str(path)],
    )
    not_objects = conn.execute(
        """select count(*), min(rowid) from _landing_rows where json_type(json) <> 'OBJECT'"""
    ).fetchall()[0][0]
    if not_objects:
        raise _FileRejected(f"{path.name}: {not_objects} line(s) are not JSON objects")
    keys = [
        row[0]
        for row in conn.execute(
            "select distinct unnest(json_keys(json)) as key from _landing_rows order by key"
        ).fetchall()
    ]
    ordinal = _ordinal_sql(conn, "_landing_rows")
    values = "".join(
        f",\n            json_extract_string(json, {_lit(_json_path(key))}) as {_q(key)}"
        for key in keys
    )
    source = f"""select {ordinal} as __row_number, json::varchar as __raw_record{values}
        from _landing_rows"""
    return source, dict.fromkeys(keys, "VARCHAR"), None


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- per-value rules


def _column_sql(column: Column, source_type: str | None) -> tuple[str, list[tuple[str, str]]]:
    """(typed value, [(rule name, broken condition)]) of one contract column, in rule order."""
    if source_type is None:  # an optional column the file does not carry
        default = column.default if column.default is not None else 0
        value = str(default) if column.type == "integer" else "null"
        return f"cast({value} as {column.raw_type})", []

    source = _q(column.name)
    is_text = source_type == "VARCHAR"
    text = source if is_text else f"cast({source} as varchar)"
    empty = f"({source} is null or {source} = '')" if is_text else f"({source} is null)"
    decimal = _DECIMAL_TYPE.fullmatch(source_type)
    type_broken = "false"
    offset_missing = "false"
    too_many_decimals = "false"

    if column.type == "string":
        value = f"case when not {empty} then {text} end"
    elif column.type == "timestamp":
        if source_type == "TIMESTAMP WITH TIME ZONE":
            value = f"cast({source} as timestamp)"
        else:
            parsed = f"try_cast({text} as timestamptz)"
            has_offset = f"regexp_matches({text}, {_lit(_OFFSET_PATTERN)})"
            value = f"case when {has_offset} then cast({parsed} as timestamp) end"
            type_broken = f"not {empty} and {parsed} is null"
            offset_missing = f"not {empty} and {parsed} is not null and not {has_offset}"
    elif column.type == "date":
        if source_type == "DATE":
            value = source
        else:
            value = (
                f"case when regexp_full_match({text}, {_lit(_DATE_PATTERN)}) "
                f"then try_cast({text} as date) end"
            )
            type_broken = f"not {empty} and ({value}) is null"
    elif column.type in _SCALES:
        scale = _SCALES[column.type]
        target = column.raw_type
        if decimal or source_type in _INTEGER_TYPES:
            if decimal and int(decimal.group(2)) > scale:
                too_many_decimals = f"{source} <> round({source}, {scale})"
            value = f"case when not ({too_many_decimals}) then try_cast({source} as {target}) end"
            type_broken = (
                f"{source} is not null and not ({too_many_decimals}) and ({value}) is null"
            )
        else:
            is_number = f"regexp_full_match({text}, {_lit(_NUMBER_PATTERN)})"
            # Trailing zeros carry no precision (JSON and floats drop them anyway): only a
            # non-zero digit beyond the storage scale is a decimal too many.
            beyond_scale = _lit(r"\." + r"\d" * scale + r"\d*[1-9]")
            too_many_decimals = f"{is_number} and regexp_matches({text}, {beyond_scale})"
            value = (
                f"case when {is_number} and not ({too_many_decimals}) "
                f"then try_cast({text} as {target}) end"
            )
            type_broken = f"not {empty} and not ({too_many_decimals}) and ({value}) is null"
    elif column.type == "integer":
        if source_type in _INTEGER_TYPES:
            parsed = f"try_cast({source} as bigint)"
        elif decimal or source_type in _FLOAT_TYPES:
            parsed = f"case when {source} = trunc({source}) then try_cast({source} as bigint) end"
        else:
            parsed = (
                f"case when regexp_full_match({text}, {_lit(_INTEGER_PATTERN)}) "
                f"then try_cast({text} as bigint) end"
            )
        type_broken = f"not {empty} and ({parsed}) is null"
        if column.required:
            value = f"case when not {empty} then {parsed} end"
        else:
            default = column.default if column.default is not None else 0
            value = f"case when {empty} then {default} else {parsed} end"
    else:  # pragma: no cover - contract.RAW_TYPES and this function move together
        raise ValueError(f"no loader for type {column.type}")

    checks = []
    if column.required:
        checks.append(("required", empty))
    checks.append(("type", type_broken))
    checks.append(("timestamp_without_offset", offset_missing))
    if column.allowed:
        allowed = ", ".join(_lit(option) for option in column.allowed)
        checks.append(("allowed_values", f"not {empty} and ({value}) not in ({allowed})"))
    if column.minimum is not None:
        checks.append(("minimum", f"not {empty} and ({value}) < {column.minimum!r}"))
    if column.exclusive_minimum is not None:
        checks.append(("minimum", f"not {empty} and ({value}) <= {column.exclusive_minimum!r}"))
    checks.append(("too_many_decimals", too_many_decimals))
    if column.pattern:
        checks.append(
            ("pattern", f"not {empty} and not regexp_matches({text}, {_lit(column.pattern)})")
        )
    rules = [
        (f"{rule}:{column.name}", condition) for rule, condition in checks if condition != "false"
    ]
    return value, rules


def _rule_list(rules: list[tuple[str, str]]) -> str:
    if not rules:
        return "cast([] as varchar[])"
    items = ",\n                ".join(
        f"case when coalesce({condition}, false) then {_lit(rule)} end" for rule, condition in rules
    )
    return f"list_filter([\n                {items}\n            ], lambda rule: rule is not null)"


# --------------------------------------------------------------------------- cross-row rules


_LATEST_ACCOUNTS = """latest_accounts as (
        select account_id, currency
        from crm.accounts
        qualify row_number() over (
            partition by account_id
            order by updated_at desc, _loaded_at desc, _file_name desc, _row_number desc
        ) = 1
    )"""
_LATEST_SUBSCRIPTIONS = """latest_subscriptions as (
        select subscription_id, account_id
        from billing.subscriptions
        qualify row_number() over (
            partition by subscription_id
            order by updated_at desc, _loaded_at desc, _file_name desc, _row_number desc
        ) = 1
    )"""
_KNOWN_PLANS = "known_plans as (select distinct plan_id from billing.plans)"
_KNOWN_INVOICES = "known_invoices as (select distinct invoice_id from billing.invoices)"
# Events a correction may name: already loaded, or in this file and clean so far.
_CORRECTABLE_EVENTS = """correctable_events as (
        select event_id, subscription_id, event_type, recorded_at
        from entitlements.seat_events
        union all
        select event_id, subscription_id, event_type, recorded_at
        from typed
        where len(__value_rules) = 0
    )"""
_JOIN_ACCOUNTS = (
    "left join latest_accounts as account_lookup on typed.account_id = account_lookup.account_id"
)
_UNKNOWN_ACCOUNT = (
    "unknown_account",
    "typed.account_id is not null and account_lookup.account_id is null",
)


def _cross_row_sql(export: Export) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(lookup CTEs, joins, [(rule, broken condition)]) of an export's cross-row rules."""
    if export.name == "subscriptions":
        return (
            [_LATEST_ACCOUNTS, _KNOWN_PLANS],
            [_JOIN_ACCOUNTS, "left join known_plans on typed.plan_id = known_plans.plan_id"],
            [
                _UNKNOWN_ACCOUNT,
                ("unknown_plan", "typed.plan_id is not null and known_plans.plan_id is null"),
            ],
        )
    if export.name == "seat_events":
        named_event = """exists (
                    select 1 from correctable_events
                    where correctable_events.event_id = typed.corrects_event_id
                        and correctable_events.subscription_id = typed.subscription_id
                        and correctable_events.recorded_at <= typed.recorded_at{extra}
                )"""
        is_correction = "typed.event_type = 'correction'"
        return (
            [_LATEST_ACCOUNTS, _LATEST_SUBSCRIPTIONS, _CORRECTABLE_EVENTS],
            [
                _JOIN_ACCOUNTS,
                """left join latest_subscriptions as subscription_lookup
                on typed.subscription_id = subscription_lookup.subscription_id""",
            ],
            [
                _UNKNOWN_ACCOUNT,
                (
                    "unknown_subscription",
                    "typed.subscription_id is not null"
                    " and subscription_lookup.subscription_id is null",
                ),
                (
                    "subscription_of_other_account",
                    "typed.account_id is not null and subscription_lookup.subscription_id"
                    " is not null and subscription_lookup.account_id is distinct from"
                    " typed.account_id",
                ),
                (
                    "corrects_event_id_required",
                    f"{is_correction} and typed.corrects_event_id is null",
                ),
                (
                    "corrects_event_id_not_allowed",
                    "typed.event_type is not null and typed.event_type <> 'correction'"
                    " and typed.corrects_event_id is not null",
                ),
                (
                    "corrected_event_unknown",
                    f"{is_correction} and typed.corrects_event_id is not null"
                    f" and not {named_event.format(extra='')}",
                ),
                (
                    "correction_of_correction",
                    f"{is_correction} and "
                    + named_event.format(
                        extra="\n                        and correctable_events.event_type"
                        " = 'correction'"
                    ),
                ),
            ],
        )
    if export.name == "usage_events":
        return (
            [_LATEST_ACCOUNTS],
            [_JOIN_ACCOUNTS],
            [
                _UNKNOWN_ACCOUNT,
                (
                    "user_id_required_for_human",
                    "typed.actor_type = 'human' and typed.user_id is null",
                ),
                (
                    "agent_id_required_for_agent",
                    "typed.actor_type = 'agent'"
                    " and (typed.agent_id is null or typed.user_id is not null)",
                ),
            ],
        )
    if export.name == "invoices":
        return (
            [_LATEST_ACCOUNTS],
            [_JOIN_ACCOUNTS],
            [
                _UNKNOWN_ACCOUNT,
                (
                    "currency_differs_from_account",
                    "typed.currency is not null and account_lookup.account_id is not null"
                    " and typed.currency is distinct from account_lookup.currency",
                ),
                (
                    "period_end_not_after_start",
                    "typed.period_end <= typed.period_start",
                ),
            ],
        )
    if export.name == "invoice_lines":
        return (
            [_KNOWN_INVOICES],
            ["left join known_invoices on typed.invoice_id = known_invoices.invoice_id"],
            [
                (
                    "unknown_invoice",
                    "typed.invoice_id is not null and known_invoices.invoice_id is null",
                )
            ],
        )
    return [], [], []


def _checked_sql(export: Export, source_sql: str, source_types: dict[str, str]) -> str:
    """One projection over the file: typed contract columns, `_extra` and every rule broken."""
    typed_columns = []
    value_rules: list[tuple[str, str]] = []
    for column in export.columns:
        value, rules = _column_sql(column, source_types.get(column.name))
        typed_columns.append(f"cast({value} as {column.raw_type}) as {_q(column.name)}")
        value_rules += rules
    extra = [name for name in source_types if name not in export.column_names]
    ctes, joins, cross_rules = _cross_row_sql(export)
    typed_select = ",\n            ".join(typed_columns)
    lookups = "".join(f",\n    {cte}" for cte in ctes)
    join_sql = "\n    ".join(joins)
    return f"""create temp table _checked as
    with
    source as ({source_sql}),
    typed as (
        select
            __row_number,
            {_json_of(extra)} as __extra,
            {typed_select},
            {_rule_list(value_rules)} as __value_rules
        from source
    ){lookups}
    select
        typed.* exclude (__value_rules),
        list_concat(typed.__value_rules, {_rule_list(cross_rules)}) as __rules
    from typed
    {join_sql}"""


def _quarantine_seats_below_zero(conn: duckdb.DuckDBPyConnection) -> None:
    """Quarantine the new seat events that would take a subscription's billable seats below zero.

    Kept in SQL and set-based across subscriptions: each pass replays the balance of every touched
    subscription (loaded + new, non-voided events, events at one instant counted together) and
    blames, per subscription, the last recorded new event whose effect lies at or before the first
    instant below zero: a removal or suspension, or a correction voiding an add or reactivation.
    The last recorded one is the change that tipped the balance (a back-dated removal is recorded
    after the later removal it collides with). Blamed events leave the replay and the pass repeats
    until no balance goes below zero.
    """
    conn.execute("create temp table _seat_blamed (__row_number bigint)")
    while True:
        blamed = conn.execute(
            f"""insert into _seat_blamed
            with
            candidates as (
                select *
                from _checked
                where len(__rules) = 0
                    and not exists (
                        select 1 from entitlements.seat_events as loaded
                        where loaded.event_id = _checked.event_id
                    )
                    and __row_number not in (select __row_number from _seat_blamed)
                qualify row_number() over (partition by event_id order by __row_number) = 1
            ),
            events as (
                select
                    null::bigint as __row_number, event_id, subscription_id, event_type,
                    quantity, effective_at, recorded_at, corrects_event_id
                from entitlements.seat_events
                where subscription_id in (select subscription_id from candidates)
                union all
                select
                    __row_number, event_id, subscription_id, event_type,
                    quantity, effective_at, recorded_at, corrects_event_id
                from candidates
            ),
            voiding as (
                select
                    corrects_event_id as event_id,
                    subscription_id,
                    min(__row_number) as correction_row_number,
                    arg_min(recorded_at, __row_number) as correction_recorded_at
                from events
                where event_type = 'correction'
                group by all
            ),
            effects as (
                select
                    events.*,
                    {_SEAT_DELTA_SQL} as seats_delta,
                    voiding.event_id is not null as is_voided,
                    voiding.correction_row_number,
                    voiding.correction_recorded_at
                from events
                left join voiding
                    on events.event_id = voiding.event_id
                    and events.subscription_id = voiding.subscription_id
            ),
            balances as (
                select
                    *,
                    sum(case when is_voided then 0 else seats_delta end) over (
                        partition by subscription_id
                        order by effective_at
                        range between unbounded preceding and current row
                    ) as billable_seats
                from effects
            ),
            first_below_zero as (
                select subscription_id, min(effective_at) as effective_at
                from balances
                where billable_seats < 0
                group by all
            ),
            blameable as (
                select
                    balances.subscription_id,
                    case
                        when not balances.is_voided and balances.seats_delta < 0
                            then balances.__row_number
                        when balances.is_voided and balances.seats_delta > 0
                            then balances.correction_row_number
                    end as blamed_row_number,
                    case
                        when balances.is_voided then balances.correction_recorded_at
                        else balances.recorded_at
                    end as blamed_recorded_at
                from balances
                inner join first_below_zero
                    on balances.subscription_id = first_below_zero.subscription_id
                    and balances.effective_at <= first_below_zero.effective_at
            )
            select arg_max(blamed_row_number, (blamed_recorded_at, blamed_row_number))
            from blameable
            where blamed_row_number is not null
            group by subscription_id"""
        ).fetchall()[0][0]
        if not blamed:
            break
    conn.execute(
        """update _checked
        set __rules = list_append(__rules, 'seats_below_zero')
        where __row_number in (select __row_number from _seat_blamed)"""
    )


# --------------------------------------------------------------------------- dedupe and insert


def _insert_sql(export: Export) -> str:
    """Insert the clean rows that are not duplicate deliveries; params: refresh, file, loaded_at."""
    key = ", ".join(_q(name) for name in export.key)
    key_match = " and ".join(f"loaded.{_q(name)} = clean.{_q(name)}" for name in export.key)
    contract_columns = ", ".join(_q(name) for name in export.column_names)
    lineage_columns = ", ".join(LINEAGE_COLUMNS)
    if export.latest_wins_by is None:
        # First delivery wins: a key already loaded, or seen earlier in this file, is a duplicate.
        # A grouped min is a hash aggregate; a row_number window would sort the whole file.
        new_rows = f"""select * from clean
            where __row_number in (select min(__row_number) from clean group by {key})
                and not exists (select 1 from {export.relation} as loaded where {key_match})"""
    else:
        # Snapshots keep every version; a version no newer than one already known is a duplicate.
        version = _q(export.latest_wins_by)
        new_rows = f"""select clean.* from clean
            left join (
                select {key}, max({version}) as latest_version
                from {export.relation}
                group by all
            ) as loaded on {key_match}
            where loaded.latest_version is null or clean.{version} > loaded.latest_version
            qualify coalesce(
                max(clean.{version}) over (
                    partition by {", ".join(f"clean.{_q(name)}" for name in export.key)}
                    order by clean.__row_number
                    rows between unbounded preceding and 1 preceding
                ) < clean.{version},
                true
            )"""
    return f"""insert into {export.relation} ({contract_columns}, {lineage_columns})
        with
        clean as (select * from _checked where len(__rules) = 0),
        new_rows as ({new_rows})
        select {contract_columns}, ? as _refresh_id, ? as _file_name, __row_number,
            ? as _loaded_at, __extra
        from new_rows"""
