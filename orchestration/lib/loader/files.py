"""One landing file, start to end: read, judge every row, quarantine, insert, report.

Each file is one transaction: its raw rows, its quarantined rows and its load report row commit
together. Every row is judged by one SQL projection over the file (a list of the rules it broke),
then by the seat replay where the export has one.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import os
import weakref
from dataclasses import replace
from pathlib import Path

import duckdb

from orchestration.lib import lake as lake_parts
from orchestration.lib import settings
from orchestration.lib.contract import (
    AUDIT_DDL,
    EXPORTS,
    FILE_EXTENSIONS,
    SEAT_SIGN,
    SEAT_SIGN_TABLE,
    Export,
)
from orchestration.lib.contract.audit import LOAD_REPORT, LOADED, REJECTED, SKIPPED
from orchestration.lib.contract.rules import PRICE_BOOK_MODELS_FILE, PRICE_BOOK_MODELS_TABLE
from orchestration.lib.loader import cross_row, readers, values
from orchestration.lib.loader.insert import (
    FileReport,
    new_rows_sql,
    quarantine_malformed,
    quarantine_rule_breakers,
    write_report,
)
from orchestration.lib.loader.landing import file_sha256, landing_files, parse_file_name
from orchestration.lib.loader.sql import OUR_BUGS, FileRejected, first_line, json_of, quote


class LakeWriteError(RuntimeError):
    """The clean rows of a file could not be written to the lake: the refresh fails (the file is
    not to blame, so it is not rejected)."""


# A modification time is trusted only when it was this much older than the refresh that saw it.
_TRUSTED_MTIME_AGE_NS = 2_000_000_000
_WORK_TABLES = ("_checked", *readers.WORK_TABLES)
# `new_refresh_id()` starts with the refresh's start: `20261122T090000Z-1a2b3c4d`.
_REFRESH_ID_TIME = "%Y%m%dT%H%M%SZ"


def ensure_warehouse_schema(conn: duckdb.DuckDBPyConnection, lake: Path | None = None) -> None:
    """Create the raw schemas, the audit tables and the raw relations (views over the lake's
    listed parts, `orchestration.lib.lake`); safe to run on every refresh. `lake`: where parts
    go, by default `<database file>.lake`."""
    # It runs before every export a refresh loads, often on one connection: the DDL and the lake's
    # views once per connection and lake, the two small tables below rewritten only when their
    # rows changed. (It took about 20 ms a call, a third of a test's load of a one-row file.)
    if _schema_ensured.get(conn, _NOT_YET) != lake:
        schemas = sorted({export.schema for export in EXPORTS.values()})
        conn.execute(
            ";\n".join(
                [*(f"create schema if not exists {schema}" for schema in schemas), *AUDIT_DDL]
            )
        )
        lake_parts.ensure_lake(conn, lake)
        _schema_ensured[conn] = lake
    write_seat_signs(conn)
    write_price_book_models(conn)


# The connections whose schema is in place, with the lake they were pointed at.
_schema_ensured: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_NOT_YET = object()


def _rows_if_table(conn: duckdb.DuckDBPyConnection, select: str) -> list[tuple] | None:
    """The rows of `select`, or None when its table does not exist yet or has other columns
    (a warehouse an older version wrote): the caller then replaces it."""
    try:
        return conn.execute(select).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):
        return None


def _replace_table(
    conn: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[tuple]
) -> None:
    conn.execute(f"create or replace table {table} ({columns})")
    if rows:
        conn.executemany(f"insert into {table} values ({', '.join('?' * len(rows[0]))})", rows)


def write_seat_signs(conn: duckdb.DuckDBPyConnection) -> int:
    """The seat sign as data: staging multiplies each event's quantity by its type's sign."""
    rows = sorted(SEAT_SIGN.items())
    if (
        _rows_if_table(conn, f"select event_type, seat_sign from {SEAT_SIGN_TABLE} order by 1")
        != rows
    ):
        _replace_table(
            conn,
            SEAT_SIGN_TABLE,
            "event_type varchar primary key, seat_sign integer not null",
            rows,
        )
    return len(rows)


def write_price_book_models(conn: duckdb.DuckDBPyConnection) -> int:
    """The price book's model ids, for the rule that an assignment names a model of it.

    Read from the dbt project in force (the seeds dbt builds the price book from), so the load
    judges by the very price book the build rates with. A project without the file has no
    models: every assignment is then quarantined as naming an unknown model, and says so.
    """
    path = settings.dbt_project_dir().joinpath(*PRICE_BOOK_MODELS_FILE)
    models: list[str] = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8-sig") as handle:
            models = [
                row["price_model_id"].strip()
                for row in csv.DictReader(handle)
                if (row.get("price_model_id") or "").strip()
            ]
    rows = [(model,) for model in sorted(set(models))]
    in_place = _rows_if_table(
        conn, f"select price_model_id from {PRICE_BOOK_MODELS_TABLE} order by 1"
    )
    if in_place != rows:
        _replace_table(conn, PRICE_BOOK_MODELS_TABLE, "price_model_id varchar not null", rows)
    return len(rows)


def refresh_started_at(refresh_id: str) -> dt.datetime | None:
    """The start a refresh id carries (UTC), or None for an id of another shape (tests)."""
    try:
        return dt.datetime.strptime(refresh_id[:16], _REFRESH_ID_TIME)
    except ValueError:
        return None


def plausible_window(
    refresh_id: str, started_at: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """(earliest, latest) plausible time for the rows of this refresh (the export contract)."""
    start = started_at or refresh_started_at(refresh_id) or dt.datetime.now(dt.UTC)
    if start.tzinfo is not None:
        start = start.astimezone(dt.UTC).replace(tzinfo=None)
    return settings.plausible_since(), start + settings.plausible_ahead()


def reject_unrecognised(
    conn: duckdb.DuckDBPyConnection,
    files: list[Path],
    refresh_id: str,
    *,
    lake: Path | None = None,
) -> list[FileReport]:
    """Report files that match no export name or accepted extension, so none is silently ignored."""
    ensure_warehouse_schema(conn, lake)
    reports = []
    for path in files:
        export_part = path.name.split("__", 1)[0] if "__" in path.name else None
        _, extension = parse_file_name(path.name)
        if path.is_dir():
            why = (
                "is a folder: the files of folders inside the landing folder are not read; "
                f"move them into the landing folder, or name the folder _{path.name} to keep it "
                "as a note"
            )
            report = FileReport(path.name, None, None, REJECTED, 0, 0, 0, 0, f"{path.name}: {why}")
            write_report(conn, refresh_id, report)
            reports.append(report)
            continue
        if extension is None:
            why = f"extension is not one of {', '.join(FILE_EXTENSIONS)}"
        elif export_part is None:
            why = "name is not <export>__<anything>.<ext>"
        else:
            why = f"'{export_part}' is not an export (expected one of {', '.join(EXPORTS)})"
        report = FileReport(
            path.name, None, file_sha256(path), REJECTED, 0, 0, 0, 0, f"{path.name}: {why}"
        )
        write_report(conn, refresh_id, report)
        reports.append(report)
    return reports


def load_export(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    export: str,
    refresh_id: str,
    *,
    refresh_started: dt.datetime | None = None,
    lake: Path | None = None,
) -> list[FileReport]:
    """Load every new file of one export in name order; one load_report row per file.

    `refresh_started` (UTC) bounds the plausible times; by default the start the refresh id
    carries, else now. `lake`: where the clean rows go as Parquet parts, the warehouse's own
    (a refresh names the published warehouse's); by default `<database file>.lake`, the list
    left as it is (`lake.ensure_lake`).
    """
    spec = EXPORTS[export]
    ensure_warehouse_schema(conn, lake)
    lake = lake or lake_parts.lake_dir_of(conn)
    # Timestamps with an offset become naive UTC.
    conn.execute("set TimeZone = 'UTC'")
    window = plausible_window(refresh_id, refresh_started)
    return [
        _load_file(conn, spec, path, refresh_id, window, lake)
        for path in landing_files(landing_dir).get(export, [])
    ]


def _load_file(
    conn: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    refresh_id: str,
    window: tuple[dt.datetime, dt.datetime],
    lake: Path,
) -> FileReport:
    stat = path.stat()
    sha = _known_sha256(conn, export, path.name, stat) or file_sha256(path)
    stamp = {"file_size_bytes": stat.st_size, "file_mtime_ns": stat.st_mtime_ns}
    earlier = conn.execute(
        f"""select file_name, refresh_id from {LOAD_REPORT}
        where export = ? and content_sha256 = ? and status = ?
        order by loaded_at limit 1""",
        [export.name, sha, LOADED],
    ).fetchall()
    if earlier:
        message = f"same content as {earlier[0][0]}, loaded in refresh {earlier[0][1]}"
        report = FileReport(path.name, export.name, sha, SKIPPED, 0, 0, 0, 0, message, **stamp)
        write_report(conn, refresh_id, report)
        return report

    conn.begin()
    try:
        report = replace(
            _load_file_rows(conn, export, path, sha, refresh_id, window, lake), **stamp
        )
        write_report(conn, refresh_id, report)
        _drop_work_tables(conn)
        conn.commit()
    except LakeWriteError:
        conn.rollback()
        raise
    except (FileRejected, duckdb.Error) as error:
        conn.rollback()
        if isinstance(error, OUR_BUGS):
            raise
        message = (
            str(error)
            if isinstance(error, FileRejected)
            else f"{path.name}: cannot be parsed: {first_line(error)}"
        )
        report = FileReport(path.name, export.name, sha, REJECTED, 0, 0, 0, 0, message, **stamp)
        write_report(conn, refresh_id, report)
    return report


def _known_sha256(
    conn: duckdb.DuckDBPyConnection, export: Export, file_name: str, stat: os.stat_result
) -> str | None:
    """The content hash an earlier refresh took of this very file: same name, size and
    modification time (to the nanosecond) as a file it loaded or skipped. A daily refresh so
    reads only the day's new files, not the whole landing folder again (about 5 s a refresh for
    100M events of Parquet, and growing). Rewriting a file changes its modification time, so it
    is hashed anew; a copy that keeps another file's time and size is the one case this trusts,
    as `rsync` and `git status` do. Like git, it does not trust a time too close to when the file
    was judged (the file system's clock ticks coarser than nanoseconds, so a rewrite in the same
    tick could keep it): such a file is hashed again."""
    known = conn.execute(
        f"""select content_sha256 from {LOAD_REPORT}
        where export = ? and file_name = ? and file_size_bytes = ? and file_mtime_ns = ?
            and status in (?, ?) and content_sha256 is not null
            and epoch_ns(loaded_at) - file_mtime_ns > ?
        order by loaded_at desc limit 1""",
        [
            export.name,
            file_name,
            stat.st_size,
            stat.st_mtime_ns,
            LOADED,
            SKIPPED,
            _TRUSTED_MTIME_AGE_NS,
        ],
    ).fetchall()
    return known[0][0] if known else None


def _load_file_rows(
    conn: duckdb.DuckDBPyConnection,
    export: Export,
    path: Path,
    sha: str,
    refresh_id: str,
    window: tuple[dt.datetime, dt.datetime],
    lake: Path,
) -> FileReport:
    _, extension = parse_file_name(path.name)
    extension = extension or ""
    # A text file's rows are numbered by their order in the staged table (readers._ordinal_sql),
    # so staging keeps insertion order; nothing after it does (each row carries its number, and
    # every ordered write says `order by`), and an ordered insert of a large file took half again
    # as long: 29 s against 19 s for 6.8M events of Parquet.
    conn.execute("set preserve_insertion_order = true")
    try:
        staged = readers.stage(conn, path, extension, export)
    except readers.EmptyFile as empty:
        # no header, no row: a file with nothing to load, as a header alone is (not a broken one)
        conn.execute("set preserve_insertion_order = false")
        return FileReport(path.name, export.name, sha, LOADED, 0, 0, 0, 0, str(empty))
    conn.execute("set preserve_insertion_order = false")
    missing = [
        column.name
        for column in export.columns
        if not column.optional and column.name not in staged.types
    ]
    # A JSONL file without one object has no keys to check: a file with no rows, not a broken one.
    if missing and not (extension.startswith("jsonl") and not staged.types):
        raise FileRejected(
            f"{path.name}: missing column(s) {', '.join(missing)} of export {export.name}"
            + (
                _misspelled_hint(
                    missing, [name for name in staged.types if name not in export.column_names]
                )
                or _delimiter_hint(staged.types)
            )
        )
    conn.execute(checked_sql(export, staged, window))
    cross_row.blame_below_zero(conn, export)
    cross_row.blame_overlaps(conn, export)

    lineage = [refresh_id, export.name, path.name]
    counts = conn.execute(
        "select count(*), count(*) filter (where len(__rules) > 0) from _checked"
    ).fetchall()[0]
    if counts[1]:
        # The original values are rebuilt only for bad rows: JSON of every row costs more than
        # all the rule checks together on a large file.
        raw_record = staged.raw_record or json_of(
            list(staged.types), staged.empty_as, relation="source"
        )
        quarantine_rule_breakers(conn, staged.source_sql, raw_record, lineage)
    malformed = 0
    if staged.malformed_sql:
        malformed = quarantine_malformed(conn, staged.malformed_sql, lineage)

    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        loaded = lake_parts.write_parts(
            conn,
            export,
            new_rows_sql(export, refresh_id, path.name, loaded_at),
            lake=lake,
            refresh_id=refresh_id,
            file_name=path.name,
        )
    except (OSError, duckdb.IOException) as error:
        # Not the file's fault (a full disk, a lake folder one cannot write): fail the refresh.
        raise LakeWriteError(f"{path.name}: cannot write its rows to {lake}: {error}") from error
    rows_read = counts[0] + malformed
    quarantined = counts[1] + malformed
    notes = [note for note in (staged.note, _unknown_columns_note(export, staged.types)) if note]
    if not rows_read:  # a header alone (a file of no bytes is said where it is read)
        has = "no row" if extension.startswith("jsonl") else "a header and no row"
        notes.append(f"the file has {has}: nothing to load")
    return FileReport(
        file_name=path.name,
        export=export.name,
        content_sha256=sha,
        status=LOADED,
        rows_read=rows_read,
        rows_loaded=loaded,
        rows_duplicate=rows_read - loaded - quarantined,
        rows_quarantined=quarantined,
        message="; ".join(notes) or None,
    )


def checked_sql(
    export: Export, staged: readers.StagedFile, window: tuple[dt.datetime, dt.datetime]
) -> str:
    """One projection over the file: typed contract columns, `__extra` and every rule broken."""
    typed_columns = []
    value_rules: list[tuple[str, str]] = []
    parsed_columns: list[tuple[str, str]] = []
    for column in export.columns:
        value, rules, parsed = values.column_sql(column, staged.types.get(column.name))
        typed_columns.append(f"cast({value} as {column.raw_type}) as {quote(column.name)}")
        value_rules += rules
        parsed_columns += parsed
    extra = [name for name in staged.types if name not in export.column_names]
    lookups, cross_rules = cross_row.row_rules_sql(export)
    plausible = values.plausible_time_check(export, *window)
    row_rules = ([plausible] if plausible else []) + cross_rules
    typed_select = ",\n            ".join(typed_columns)
    parsed_select = "".join(
        f",\n            {expression} as {quote(name)}" for name, expression in parsed_columns
    )
    lookup_ctes = "".join(f",\n    {cte}" for cte in lookups)
    return f"""create temp table _checked as
    with
    source as ({staged.source_sql}),
    parsed as (
        select *{parsed_select}
        from source
    ),
    typed as (
        select
            __row_number,
            {json_of(extra)} as __extra,
            {typed_select},
            {values.rule_list_sql(value_rules)} as __value_rules
        from parsed
    ){lookup_ctes}
    select
        this_row.* exclude (__value_rules),
        list_concat(this_row.__value_rules, {values.rule_list_sql(row_rules)}) as __rules
    from typed as this_row"""


def _unknown_columns_note(export: Export, types: dict[str, str]) -> str | None:
    """Name the file's columns the contract does not know (kept in `_extra`), with the
    contract's column each is likely a misspelling of: a misspelled optional column is not
    missing, so nothing else would say that its values did not load."""
    unknown = [name for name in types if name not in export.column_names]
    if not unknown:
        return None
    said = []
    for name in unknown:
        close = difflib.get_close_matches(name.lower(), export.column_names, n=1, cutoff=0.8)
        said.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"column(s) not in the contract, kept in _extra: {', '.join(said)}"


def _misspelled_hint(missing: list[str], unknown_columns: list[str]) -> str:
    """The file's columns the contract does not know that are likely misspellings of the
    missing ones (" (the file has contry (for country?))"), or nothing."""
    unknown = {name.lower(): name for name in unknown_columns}
    found = []
    for name in missing:
        close = difflib.get_close_matches(name, list(unknown), n=1, cutoff=0.8)
        if close:
            found.append(f"{unknown[close[0]]} (for {name}?)")
    return f" (the file has {', '.join(found)})" if found else ""


def _delimiter_hint(types: dict[str, str]) -> str:
    """When the header is one column holding another separator, say so: that is the problem."""
    if len(types) != 1:
        return ""
    (header,) = types
    for separator, name in (("\t", "tabs"), (";", "semicolons"), ("|", "bars")):
        if separator in header:
            return f" (the header is one field: its fields are separated by {name}, not commas)"
    return ""


def _drop_work_tables(conn: duckdb.DuckDBPyConnection) -> None:
    for table in _WORK_TABLES:
        conn.execute(f"drop table if exists {table}")
