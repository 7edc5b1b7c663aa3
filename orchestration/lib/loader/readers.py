"""Readers: a landing file as numbered rows of its own columns, and the rows it could not parse.

DuckDB reads every format itself, so a usage file of tens of millions of rows never passes
through Python. Text files are sniffed first (a few KB) so that a file in another encoding is read
correctly (UTF-8 with a byte-order mark, UTF-16LE) or rejected with a message naming the
encoding, instead of failing later as a file whose columns are all missing.

A CSV row with the wrong number of fields, or a JSONL line that is not a JSON object, is returned
as a malformed row (its original text kept): the loader quarantines it and loads the rest.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.contract import Export
from orchestration.lib.loader import cloudevents
from orchestration.lib.loader.sql import (
    OUR_BUGS,
    FileRejected,
    column_types,
    first_line,
    literal,
    quote,
)

# Work tables of one file, dropped when the file is done.
WORK_TABLES = ("_landing_rows", "_jsonl_rows", "_csv_rejects", "_csv_reject_scans")

# A JSON text never holds a raw control character, so splitting lines on one never splits a
# valid JSON line; a line that does hold one is malformed and keeps its text in the rejects.
_NO_DELIMITER = "\x1f"
_SNIFF_BYTES = 4096
# Byte-order marks, longest first (the UTF-32LE mark starts with the UTF-16LE one).
_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
)
# Encodings DuckDB's text reader decodes itself (it drops a UTF-8 byte-order mark on its own).
_READABLE = {"UTF-8": "utf-8", "UTF-16LE": "utf-16"}
_NOT_UTF8_HINT = "bytes that are not UTF-8 (Latin-1 or Windows-1252?)"


class EmptyFile(Exception):
    """A text file with no bytes at all (after decompression): no header and no row."""


@dataclass(frozen=True)
class StagedFile:
    """The rows of a file as DuckDB sees them, before any contract rule."""

    source_sql: str  # select __row_number and the file's own columns
    types: dict[str, str]  # the file's columns and their DuckDB types
    malformed_sql: str | None = None  # select row_number, raw_record of unparseable rows
    raw_record: str | None = None  # SQL over `source` for a row's original text, if kept
    empty_as: str | None = None  # how an empty value reads in a rebuilt record (CSV: '')
    note: str | None = None  # something the operator should know, for the load report


def stage(
    conn: duckdb.DuckDBPyConnection, path: Path, extension: str, export: Export
) -> StagedFile:
    compression = "gzip" if extension.endswith(".gz") else "none"
    if extension == "parquet":
        return _stage_parquet(conn, path, export)
    encoding, note = _text_encoding(path, compression)
    if extension.startswith("jsonl"):
        return _stage_jsonl(conn, path, compression, encoding, note, export)
    if encoding == "utf-8":
        _require_utf8_header(path, compression)
    return _stage_csv(conn, path, compression, encoding, note)


# --------------------------------------------------------------------------- encodings


def _text_encoding(path: Path, compression: str) -> tuple[str, str | None]:
    """(DuckDB encoding, note) of a text file, or the file is rejected naming its encoding."""
    try:
        if compression == "gzip":
            with gzip.open(path) as handle:
                head = handle.read(_SNIFF_BYTES)
        else:
            with path.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as error:
        raise FileRejected(f"{path.name}: is not a readable gzip file ({error})") from None
    if not head:
        raise EmptyFile("the file is empty (no header and no row): nothing to load")
    if compression == "none" and head.startswith(b"\x1f\x8b"):
        raise FileRejected(f"{path.name}: is gzip-compressed: name it {path.name}.gz")
    if head.startswith(b"PAR1"):
        raise FileRejected(f"{path.name}: is a Parquet file: name it *.parquet")
    name = sniff_encoding(head)
    if name in _READABLE:
        bom = any(head.startswith(mark) for mark, _ in _BYTE_ORDER_MARKS)
        if name == "UTF-8":
            return "utf-8", None
        how = "with a byte-order mark" if bom else "detected, no byte-order mark"
        return _READABLE[name], f"read as {name} ({how}); the contract asks for UTF-8"
    if name == "binary":
        raise FileRejected(
            f"{path.name}: holds NUL bytes, so it is not UTF-8 text (a spreadsheet or another "
            "binary file?): export it as UTF-8 CSV or JSON lines"
        )
    raise FileRejected(
        f"{path.name}: is {name} text; the contract asks for UTF-8 (UTF-16LE is read too): "
        "save it as UTF-8"
    )


def _require_utf8_header(path: Path, compression: str) -> None:
    """Reject a CSV file whose header is not UTF-8, naming the byte: DuckDB would otherwise read
    a Latin-1 header into column names the contract does not know, and the file would be
    rejected for missing every column. (A row that is not UTF-8 is named by its row number.)"""
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rb") as handle:
        header = handle.readline(1 << 20)
    try:
        header.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and not header.endswith(b"\n"):
            return  # a header longer than the line read, cut inside a character
        raise FileRejected(
            f"{path.name}: is not UTF-8: its header (line 1) holds {_NOT_UTF8_HINT}, the first "
            f"0x{header[error.start]:02X} at byte {error.start + 1}; save the file as UTF-8"
        ) from None


def sniff_encoding(head: bytes) -> str:
    """UTF-8, UTF-16LE/BE, UTF-32LE/BE or `binary`, from a file's first bytes.

    A byte-order mark decides; without one, ASCII text in UTF-16 has a NUL byte in every other
    position (after each character in little-endian order, before it in big-endian order).
    """
    for mark, name in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return name
    if b"\x00" not in head:
        return "UTF-8"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 4 * even and odd * 4 >= len(head):
        return "UTF-16LE"
    if even > 4 * odd and even * 4 >= len(head):
        return "UTF-16BE"
    return "binary"


def _reject_if_not_utf8(
    conn: duckdb.DuckDBPyConnection, path: Path, encoding: str, line_offset: int
) -> None:
    """One undecodable row means the whole file is in another encoding: refuse it whole."""
    (line,) = conn.execute(
        "select min(line) from _csv_rejects where error_type = 'INVALID ENCODING'"
    ).fetchall()[0]
    if line is not None:
        what = "UTF-8" if encoding == "utf-8" else "UTF-16LE"
        raise FileRejected(
            f"{path.name}: is not {what}: row {line - line_offset} holds {_NOT_UTF8_HINT}; "
            "save it as UTF-8"
        )


def _read_text_table(
    conn: duckdb.DuckDBPyConnection, path: Path, read_sql: str, encoding: str
) -> None:
    """Fill _landing_rows with `read_sql`; a decoding error names the encoding."""
    for table in ("_csv_rejects", "_csv_reject_scans"):
        conn.execute(f"drop table if exists {table}")
    try:
        conn.execute(f"create temp table _landing_rows as {read_sql}", [str(path)])
    except duckdb.InvalidInputException as error:
        if "unicode" not in str(error).lower():
            raise
        what = "UTF-8" if encoding == "utf-8" else "UTF-16LE"
        raise FileRejected(f"{path.name}: is not {what}: it holds {_NOT_UTF8_HINT}") from None


# --------------------------------------------------------------------------- row numbers


def _numbered_rows_sql(conn: duckdb.DuckDBPyConnection, line_offset: int) -> str:
    """_landing_rows with __row_number: the row's number in the file, rejected rows counted.

    DuckDB's CSV reader leaves out rows it rejects; a good row comes after rejected row i when
    fewer than k good rows precede it (its data row minus i), so add the count of such rows.
    `line_offset` is the number of lines before the first data row (the header).
    """
    ordinal = _ordinal_sql(conn, "_landing_rows")
    rejected = conn.execute("select count(*) from _csv_rejects").fetchall()[0][0]
    if not rejected:
        return f"select {ordinal} as __row_number, * from _landing_rows"
    return f"""with
        rejected as (
            select distinct line - {line_offset} as data_row from _csv_rejects
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


def _ordinal_sql(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    """1-based position of a row in a freshly filled temp table (rowids follow insertion order)."""
    low, high, count = conn.execute(
        f"select min(rowid), max(rowid), count(*) from {table}"
    ).fetchall()[0]
    if count == 0 or high - low + 1 == count:
        return f"(rowid - {low or 0} + 1)"
    return "row_number() over (order by rowid)"


def _rejected_rows_sql(line_offset: int, key: str) -> str:
    """Rows DuckDB's reader could not split, as (row_number, raw_record) with the line's text."""
    return f"""select
            line - {line_offset} as row_number,
            to_json({{
                '{key}': trim(any_value(csv_line), chr(13) || chr(10)),
                '_error': min(error_message)
            }})::varchar as raw_record
        from _csv_rejects
        group by line"""


# --------------------------------------------------------------------------- formats


def _stage_csv(
    conn: duckdb.DuckDBPyConnection, path: Path, compression: str, encoding: str, note: str | None
) -> StagedFile:
    _read_text_table(
        conn,
        path,
        f"""select * from read_csv(
            ?, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true,
            compression = '{compression}', encoding = '{encoding}', store_rejects = true,
            rejects_table = '_csv_rejects', rejects_scan = '_csv_reject_scans'
        )""",
        encoding,
    )
    _reject_if_not_utf8(conn, path, encoding, line_offset=1)
    rejected = conn.execute("select count(*) from _csv_rejects").fetchall()[0][0]
    return StagedFile(
        source_sql=_numbered_rows_sql(conn, line_offset=1),
        types=column_types(conn, "_landing_rows"),
        malformed_sql=_rejected_rows_sql(1, "_csv_line") if rejected else None,
        empty_as="",
        note=note,
    )


def _stage_jsonl(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    compression: str,
    encoding: str,
    note: str | None,
    export: Export,
) -> StagedFile:
    # Lines as text first, so one broken line is one malformed row and not a broken file.
    _read_text_table(
        conn,
        path,
        f"""select line from read_csv(
            ?, header = false, columns = {{'line': 'VARCHAR'}}, delim = '{_NO_DELIMITER}',
            quote = '', escape = '', auto_detect = false, compression = '{compression}',
            encoding = '{encoding}', store_rejects = true, rejects_table = '_csv_rejects',
            rejects_scan = '_csv_reject_scans'
        )""",
        encoding,
    )
    _reject_if_not_utf8(conn, path, encoding, line_offset=0)
    conn.execute(
        f"""create temp table _jsonl_rows as
        select
            __row_number,
            line,
            case
                when line is null or regexp_full_match(line, '\\s*') then 'blank'
                when not json_valid(line) then 'not valid JSON'
                when json_type(line) <> 'OBJECT' then 'not a JSON object'
            end as __problem
        from ({_numbered_rows_sql(conn, line_offset=0)})"""
    )
    objects, problem_line, problem = conn.execute(
        """select
            count(*) filter (where __problem is null),
            min(__row_number) filter (where __problem <> 'blank'),
            arg_min(__problem, __row_number) filter (where __problem <> 'blank')
        from _jsonl_rows"""
    ).fetchall()[0]
    rejected = conn.execute("select min(line) from _csv_rejects").fetchall()[0][0]
    if not objects and (problem_line or rejected):
        # Not one row to load: the file cannot be parsed at all.
        if problem_line is None or (rejected is not None and rejected < problem_line):
            problem_line, problem = rejected, "not a line of text"
        raise FileRejected(
            f"{path.name}: no line is a JSON object (line {problem_line}: {problem})"
        )
    # A usage event may come as a CloudEvent: its values are read from the event it maps to,
    # its original line stays the row's raw record.
    values = "line"
    if export.name == cloudevents.EXPORT and cloudevents.holds_cloudevents(
        conn, "_jsonl_rows", "line"
    ):
        values = cloudevents.flattened_sql("line", cloudevents.mapping(path.parent))
    keys = [
        row[0]
        for row in conn.execute(
            f"""select distinct unnest(json_keys({values})) as key
            from _jsonl_rows where __problem is null order by key"""
        ).fetchall()
    ]
    if values != "line":
        # A CloudEvent's data leaves out what it does not know: every column is then empty.
        keys = sorted(set(keys) | set(export.column_names))
    if keys:
        # One parse per line: every value as text, as a CSV field would be.
        structure = literal(json.dumps(dict.fromkeys(keys, "VARCHAR")))
        source = f"""select __row_number, __raw_record, unnest(__values) from (
            select
                __row_number,
                line as __raw_record,
                json_transform({values}, {structure}) as __values
            from _jsonl_rows
            where __problem is null
        )"""
    else:
        source = "select __row_number, line as __raw_record from _jsonl_rows where false"
    malformed = f"""select
            __row_number as row_number,
            to_json({{'_jsonl_line': line, '_error': __problem}})::varchar as raw_record
        from _jsonl_rows
        where __problem <> 'blank'
        union all
        {_rejected_rows_sql(0, "_jsonl_line")}"""
    return StagedFile(
        source_sql=source,
        types=dict.fromkeys(keys, "VARCHAR"),
        malformed_sql=malformed,
        raw_record="source.__raw_record",
        note=note,
    )


# Parquet types a contract type can be read from row by row; any other type of a contract
# column makes every row fail, so the file is refused naming the column instead.
_INTEGERS = {
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
_NUMBERS = _INTEGERS | {"FLOAT", "DOUBLE", "DECIMAL"}
_TIMESTAMPS = {
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "DATE",
}
_TEXT = {"VARCHAR", "BLOB"}
_READABLE_FROM = {
    "timestamp": (_TEXT | _TIMESTAMPS, "ISO 8601 text with an offset, or a timestamp"),
    "date": (_TEXT | {"DATE", *_TIMESTAMPS}, "YYYY-MM-DD text or a date"),
    "money": (_TEXT | _NUMBERS, "a decimal number or its text"),
    "decimal": (_TEXT | _NUMBERS, "a decimal number or its text"),
    "integer": (_TEXT | _NUMBERS, "an integer or its text"),
}


def _base_type(duckdb_type: str) -> str:
    return duckdb_type.split("(", 1)[0].strip()


def _is_nested(duckdb_type: str) -> bool:
    return duckdb_type.endswith("]") or _base_type(duckdb_type) in {"STRUCT", "MAP", "UNION"}


def unreadable_columns(export: Export, types: dict[str, str]) -> list[str]:
    """'<column> is <type> in the file; <contract type> needs <what>' for each hopeless column."""
    problems = []
    for column in export.columns:
        source_type = types.get(column.name)
        if source_type is None:
            continue
        allowed, needs = _READABLE_FROM.get(column.type, (None, "text"))
        if _is_nested(source_type) or (
            allowed is not None and _base_type(source_type) not in allowed
        ):
            article = "an" if column.type[0] in "aeiou" else "a"
            problems.append(
                f"{column.name} is {source_type} in the file; "
                f"{article} {column.type} column needs {needs}"
            )
    return problems


def _stage_parquet(conn: duckdb.DuckDBPyConnection, path: Path, export: Export) -> StagedFile:
    relation = f"read_parquet({literal(str(path))}, file_row_number = true)"
    try:
        types = column_types(conn, f"select * exclude (file_row_number) from {relation}")
    except duckdb.Error as error:
        if isinstance(error, OUR_BUGS):
            raise
        why = first_line(error).replace(str(path), path.name)
        raise FileRejected(f"{path.name}: is not a readable Parquet file ({why})") from None
    problems = unreadable_columns(export, types)
    if problems:
        raise FileRejected(f"{path.name}: column types do not fit: {'; '.join(problems)}")
    # Text written as bytes (BYTE_ARRAY without a string annotation) reads as BLOB: decode it;
    # a value that is not UTF-8 fails the read and rejects the file, naming the column's bytes.
    contract = set(export.column_names)
    columns = [
        f"decode({quote(name)}) as {quote(name)}"
        if name in contract and source_type == "BLOB"
        else quote(name)
        for name, source_type in types.items()
    ]
    types = {
        name: "VARCHAR" if name in contract and source_type == "BLOB" else source_type
        for name, source_type in types.items()
    }
    listed = ",\n            ".join(columns)
    source = f"""select
            file_row_number + 1 as __row_number{"," if columns else ""}
            {listed}
        from {relation}"""
    return StagedFile(source_sql=source, types=types)
