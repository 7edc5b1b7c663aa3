"""The loader against hostile files, as an operator meets them: wrong clocks, other encodings,
broken lines, Parquet of the wrong types. Real DuckDB files, real files on disk."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import loader
from orchestration.lib.loader.readers import sniff_encoding
from tests.orchestration.test_ingest import (
    GOOD_ROWS,
    load_all,
    quarantine,
    reference_files,
    row,
    write_parquet,
)

# Refresh ids carry the refresh's start: this one started 2025-03-01 12:00 UTC.
REFRESH = "20250301T120000Z-0a1b2c3d"


def csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    reference_files(folder)  # accounts a1 and a2 (created 2025-01-01), plan, subscriptions
    return folder


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def usage(event_id: str, **changes: str) -> dict[str, str]:
    return row("usage_events", event_id=event_id, **changes)


def loaded_events(connection) -> list[tuple]:
    return connection.execute(
        "select event_id, _file_name, _row_number from telemetry.usage_events order by 2, 3"
    ).fetchall()


# ---------------------------------------------------------------------------- plausible times


def test_times_up_to_a_day_after_the_refresh_start_and_from_2000_on_are_plausible(conn, landing):
    # Refresh start 2025-03-01 12:00 + 1 day = 2025-03-02 12:00:00, the latest plausible time.
    write_csv_rows(
        landing / "usage_events__edges.csv",
        [
            usage("at_limit", occurred_at="2025-03-02T12:00:00Z"),
            usage("past_limit", occurred_at="2025-03-02T12:00:01Z"),
            usage("offset_at_limit", occurred_at="2025-03-02T14:00:00+02:00"),
            usage("first_instant", occurred_at="2000-01-01T00:00:00Z"),
            usage("before_2000", occurred_at="1999-12-31T23:59:59Z"),
        ],
    )

    load_all(conn, landing, REFRESH)

    assert [(entry[1], entry[2]) for entry in quarantine(conn)] == [
        (2, "implausible_time"),
        (5, "implausible_time"),
    ]
    assert [event for event, _, _ in loaded_events(conn)] == [
        "at_limit",
        "offset_at_limit",
        "first_instant",
    ]


def test_times_that_may_lie_ahead_are_exempt(conn, landing):
    write_csv_rows(
        landing / "subscriptions__scheduled.csv",
        [row("subscriptions", subscription_id="s9", canceled_at="2099-01-01T00:00:00Z")],
    )
    write_csv_rows(
        landing / "invoices__ahead.csv",
        [row("invoices", invoice_id="i9", period_end="2099-01-01T00:00:00Z")],
    )
    write_csv_rows(
        landing / "invoice_lines__ahead.csv",
        [row("invoice_lines", line_id="l9", period_end="2099-01-01T00:00:00Z")],
    )

    reports = load_all(conn, landing, REFRESH)

    assert quarantine(conn) == []
    for name in ("subscriptions__scheduled.csv", "invoices__ahead.csv", "invoice_lines__ahead.csv"):
        assert reports[name].rows_loaded == 1


def test_the_plausible_window_comes_from_settings_and_the_given_refresh_start(
    conn, landing, monkeypatch
):
    # The accounts were created at 2025-01-01 00:00 UTC: exactly the earliest plausible time.
    monkeypatch.setenv("SEATSHIFT_PLAUSIBLE_SINCE", "2025-01-01T01:00:00+01:00")
    monkeypatch.setenv("SEATSHIFT_PLAUSIBLE_AHEAD_HOURS", "0")
    write_csv_rows(
        landing / "usage_events__window.csv",
        [
            usage("new_year_eve", occurred_at="2024-12-31T23:59:59Z"),
            usage("february", occurred_at="2025-02-01T00:00:00Z"),
            usage("after_start", occurred_at="2025-02-01T12:00:01Z"),
        ],
    )

    # A refresh id of another shape: the caller passes the start (2025-02-01 12:00 UTC).
    reports = loader.load_export(
        conn, landing, "accounts", "r1", refresh_started=dt.datetime(2025, 2, 1, 12)
    )
    reports += loader.load_export(
        conn, landing, "usage_events", "r1", refresh_started=dt.datetime(2025, 2, 1, 12)
    )

    assert [(r.file_name, r.rows_loaded, r.rows_quarantined) for r in reports] == [
        ("accounts__base.csv", 2, 0),
        ("usage_events__window.csv", 1, 2),
    ]
    assert [entry[1] for entry in quarantine(conn)] == [1, 3]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SEATSHIFT_PLAUSIBLE_SINCE", "last year"), ("SEATSHIFT_PLAUSIBLE_AHEAD_HOURS", "-1")],
)
def test_a_bad_plausibility_setting_is_named_instead_of_loading_anything(
    conn, landing, monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValueError, match=variable):
        loader.load_export(conn, landing, "accounts", REFRESH)


# ---------------------------------------------------------------------------- encodings


def write_csv_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("file_name", "encode"),
    [
        ("usage_events__utf16.csv", lambda text: text.encode("utf-16")),  # BOM, little-endian
        ("usage_events__utf16_no_bom.csv", lambda text: text.encode("utf-16-le")),
        ("usage_events__utf16.csv.gz", lambda text: gzip.compress(text.encode("utf-16"))),
        ("usage_events__bom.csv", lambda text: text.encode("utf-8-sig")),
    ],
)
def test_a_utf16_or_bom_csv_is_read_correctly(conn, landing, file_name, encode):
    rows = [usage("u1", feature="résumé"), usage("u2", feature="日本語")]
    (landing / file_name).write_bytes(encode(csv_text(rows)))

    reports = load_all(conn, landing)

    report = reports[file_name]
    assert (report.status, report.rows_loaded, report.rows_quarantined) == ("loaded", 2, 0)
    if "utf16" in file_name:
        assert report.message.startswith("read as UTF-16LE")  # the operator learns it
    features = conn.execute("select feature from telemetry.usage_events order by event_id")
    assert features.fetchall() == [("résumé",), ("日本語",)]


@pytest.mark.parametrize(
    ("file_name", "encode"),
    [
        ("usage_events__utf16.jsonl", lambda text: text.encode("utf-16")),
        ("usage_events__bom.jsonl", lambda text: text.encode("utf-8-sig")),
    ],
)
def test_a_utf16_or_bom_jsonl_is_read_correctly(conn, landing, file_name, encode):
    text = "".join(json.dumps(usage(e, feature="résumé")) + "\n" for e in ("u1", "u2"))
    (landing / file_name).write_bytes(encode(text))

    reports = load_all(conn, landing)

    assert (reports[file_name].rows_loaded, reports[file_name].rows_quarantined) == (2, 0)
    assert {
        f for (f,) in conn.execute("select feature from telemetry.usage_events").fetchall()
    } == {"résumé"}


@pytest.mark.parametrize(
    ("file_name", "content", "says"),
    [
        (
            "usage_events__utf16be.csv",
            b"\xfe\xff" + csv_text([usage("u1")]).encode("utf-16-be"),
            "is UTF-16BE text; the contract asks for UTF-8",
        ),
        (
            "usage_events__utf32.csv",
            csv_text([usage("u1")]).encode("utf-32"),
            "is UTF-32LE text; the contract asks for UTF-8",
        ),
        (
            "usage_events__latin1.csv",
            csv_text([usage("u1"), usage("u2", feature="café")]).encode("latin-1"),
            "is not UTF-8: row 2 holds bytes that are not UTF-8 (Latin-1 or Windows-1252?)",
        ),
        (
            # a Latin-1 header was read into columns the contract does not know, and the file
            # rejected as "missing column(s) event_id, ..."
            "usage_events__latin1_header.csv",
            csv_text([usage("u1")]).replace("feature", "fonctionnalit\u00e9", 1).encode("latin-1"),
            "is not UTF-8: its header (line 1) holds bytes that are not UTF-8 (Latin-1 or "
            "Windows-1252?), the first 0xE9 at byte",
        ),
        (
            "usage_events__latin1.jsonl",
            json.dumps(usage("u1", feature="café"), ensure_ascii=False).encode("latin-1"),
            "is not UTF-8",
        ),
        (
            "usage_events__tabs.csv",
            csv_text([usage("u1")], delimiter="\t").encode("utf-16"),
            "fields are separated by tabs, not commas",
        ),
        (
            "usage_events__zipped.csv",
            gzip.compress(csv_text([usage("u1")]).encode()),
            "is gzip-compressed: name it usage_events__zipped.csv.gz",
        ),
        (
            "usage_events__plain.csv.gz",
            csv_text([usage("u1")]).encode(),
            "is not a readable gzip file",
        ),
    ],
)
def test_a_file_in_another_encoding_is_rejected_naming_the_encoding(
    conn, landing, file_name, content, says
):
    (landing / file_name).write_bytes(content)

    reports = load_all(conn, landing)

    report = reports[file_name]
    assert report.status == "rejected"
    assert report.message.startswith(f"{file_name}: ")
    assert says in report.message
    assert "missing column" not in report.message or "tabs" in says
    assert reports["accounts__base.csv"].status == "loaded"  # the others still load


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("usage_events__zero.csv", b""),
        ("usage_events__zero.csv.gz", gzip.compress(b"", mtime=0)),  # the same bytes every run
        ("usage_events__zero.jsonl", b""),
        ("usage_events__header.csv", csv_text([usage("u1")]).split("\n", 1)[0].encode() + b"\n"),
    ],
    ids=["zero-bytes-csv", "empty-gzip-csv", "zero-bytes-jsonl", "header-only-csv"],
)
def test_an_empty_file_loads_no_rows_and_says_so(conn, landing, file_name, content):
    # An empty CSV (no bytes, or a gzip of none) was rejected for "missing column(s)", while an
    # empty JSONL file and a header alone loaded no rows. Every one of them is now a file with
    # nothing to load; the report says which had no bytes at all.
    (landing / file_name).write_bytes(content)

    report = load_all(conn, landing)[file_name]

    assert (report.status, report.rows_read, report.rows_loaded) == ("loaded", 0, 0)
    if "header" not in file_name:
        assert report.message == "the file is empty (no header and no row): nothing to load"
    else:  # it loaded no rows without a word
        assert report.message == "the file has a header and no row: nothing to load"


def test_sniff_encoding_reads_byte_order_marks_and_nul_patterns():
    text = "event_id,account_id\n"
    assert sniff_encoding(text.encode("utf-8")) == "UTF-8"
    assert sniff_encoding(text.encode("utf-8-sig")) == "UTF-8"
    assert sniff_encoding(text.encode("utf-16-le")) == "UTF-16LE"
    assert sniff_encoding(text.encode("utf-16-be")) == "UTF-16BE"
    assert sniff_encoding(b"\xfe\xff" + text.encode("utf-16-be")) == "UTF-16BE"
    assert sniff_encoding(text.encode("utf-32")) == "UTF-32LE"
    assert sniff_encoding(b"PK\x03\x04\x00\x00\x00\x00\x08\x00\x21\x00") == "binary"


# ---------------------------------------------------------------------------- malformed rows


@pytest.mark.parametrize("file_name", ["usage_events__lines.jsonl", "usage_events__lines.jsonl.gz"])
def test_a_broken_jsonl_line_is_quarantined_and_the_good_lines_load(conn, landing, file_name):
    lines = [
        json.dumps(usage("u1")),
        '{"event_id": "u2", "account_id": ',  # cut off mid-object
        "",  # a blank line is no row
        json.dumps(usage("u4")),
        '["u5", "a1"]',  # valid JSON, but not an object
        "x\x1fy",  # a raw control character: not even a line of JSON text
        json.dumps(usage("u7")),
    ]
    text = "\r\n".join(lines) + "\r\n"
    path = landing / file_name
    path.write_bytes(gzip.compress(text.encode()) if file_name.endswith(".gz") else text.encode())

    reports = load_all(conn, landing)

    report = reports[file_name]
    # Six non-blank lines: three load, three cannot be parsed.
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (6, 3, 3)
    entries = quarantine(conn)
    assert [(entry[1], entry[2], entry[4]) for entry in entries] == [
        (2, "malformed_row", ["malformed_row"]),
        (5, "malformed_row", ["malformed_row"]),
        (6, "malformed_row", ["malformed_row"]),
    ]
    records = [json.loads(entry[3]) for entry in entries]
    assert [record["_jsonl_line"] for record in records] == [lines[1], lines[4], lines[5]]
    assert [record["_error"] for record in records][:2] == ["not valid JSON", "not a JSON object"]
    # Row numbers are line numbers, so an operator finds the line in the file.
    assert loaded_events(conn) == [(e, file_name, n) for e, n in (("u1", 1), ("u4", 4), ("u7", 7))]


def test_a_ragged_row_of_a_gzip_csv_is_quarantined_and_the_rest_loads(conn, landing):
    lines = [
        ",".join(GOOD_ROWS["usage_events"]),
        ",".join(usage("u1").values()),
        ",".join([*usage("u2").values(), "one too many"]),
        ",".join(usage("u3").values()),
    ]
    (landing / "usage_events__ragged.csv.gz").write_bytes(gzip.compress("\n".join(lines).encode()))

    reports = load_all(conn, landing)

    report = reports["usage_events__ragged.csv.gz"]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    [(_, row_number, rule, raw_record, _)] = quarantine(conn)
    assert (row_number, rule) == (2, "malformed_row")
    assert json.loads(raw_record)["_csv_line"] == lines[2]
    assert [(e, n) for e, _, n in loaded_events(conn)] == [("u1", 1), ("u3", 3)]


# ---------------------------------------------------------------------------- parquet

USAGE_PARQUET = """select 'p{n}' as event_id, 'a1' as account_id, 'human' as actor_type,
    'u1' as user_id, null::varchar as agent_id,
    timestamptz '2025-02-01 10:00:00+00' as occurred_at, {feature} as feature,
    'small' as model, {tokens} as input_tokens, 5 as output_tokens, 1 as tasks,
    'resolved' as outcome{extra}"""


def usage_parquet(n: int, feature: str = "'chat'", tokens: str = "7", extra: str = "") -> str:
    return USAGE_PARQUET.format(n=n, feature=feature, tokens=tokens, extra=extra)


def test_a_parquet_column_of_the_wrong_type_is_judged_row_by_row(conn, landing):
    # input_tokens as DOUBLE: 2.0 is an integer, 1.5 is not; text tokens likewise.
    write_parquet(
        landing / "usage_events__doubles.parquet",
        f"{usage_parquet(1, tokens='1.5::double')} union all {usage_parquet(2, tokens='2.0')}",
    )
    write_parquet(
        landing / "usage_events__text.parquet",
        f"{usage_parquet(3, tokens=repr('12k'))} union all {usage_parquet(4, tokens=repr('4'))}",
    )

    reports = load_all(conn, landing)

    assert [(entry[0], entry[1], entry[2]) for entry in quarantine(conn)] == [
        ("usage_events__doubles.parquet", 1, "type:input_tokens"),
        ("usage_events__text.parquet", 1, "type:input_tokens"),
    ]
    assert reports["usage_events__doubles.parquet"].rows_loaded == 1
    tokens = conn.execute("select event_id, input_tokens from telemetry.usage_events order by 1")
    assert tokens.fetchall() == [("p2", 2), ("p4", 4)]


def test_text_stored_as_parquet_bytes_is_decoded(conn, landing):
    write_parquet(
        landing / "usage_events__bytes.parquet",
        usage_parquet(1, feature="'r\\xC3\\xA9sum\\xC3\\xA9'::blob"),
    )

    load_all(conn, landing)

    assert conn.execute("select feature from telemetry.usage_events").fetchall() == [("résumé",)]


@pytest.mark.parametrize(
    ("select_sql", "says"),
    [
        (
            usage_parquet(1).replace(
                "timestamptz '2025-02-01 10:00:00+00' as occurred_at", "1738404000 as occurred_at"
            ),
            "occurred_at is INTEGER in the file; a timestamp column needs ISO 8601 text",
        ),
        (
            usage_parquet(1, feature="['chat']"),
            "feature is VARCHAR[] in the file; a string column needs text",
        ),
        (
            usage_parquet(1, tokens="true"),
            "input_tokens is BOOLEAN in the file; an integer column needs an integer or its text",
        ),
    ],
)
def test_a_parquet_column_no_row_can_fit_is_named_and_the_file_rejected(
    conn, landing, select_sql, says
):
    write_parquet(landing / "usage_events__drift.parquet", select_sql)

    reports = load_all(conn, landing)

    report = reports["usage_events__drift.parquet"]
    assert report.status == "rejected"
    assert report.message.startswith("usage_events__drift.parquet: column types do not fit: ")
    assert says in report.message


def test_a_corrupt_parquet_is_rejected_whole_with_a_clear_message(conn, landing):
    path = write_parquet(landing / "usage_events__cut.parquet", usage_parquet(1))
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])  # a transfer cut off halfway

    reports = load_all(conn, landing)

    report = reports["usage_events__cut.parquet"]
    assert report.status == "rejected"
    assert report.message.startswith("usage_events__cut.parquet: is not a readable Parquet file (")
    assert str(landing) not in report.message  # the file's name, not this machine's path
    assert conn.execute("select count(*) from telemetry.usage_events").fetchall() == [(0,)]


def test_extra_parquet_columns_are_kept_raw(conn, landing):
    write_parquet(
        landing / "usage_events__extra.parquet",
        usage_parquet(1, extra=", {'k': 1, 'tags': ['a', 'b']} as context, 'eu' as region"),
    )

    load_all(conn, landing)

    [(extra,)] = conn.execute("select _extra from telemetry.usage_events").fetchall()
    assert json.loads(extra) == {"context": {"k": 1, "tags": ["a", "b"]}, "region": "eu"}


def test_a_misspelled_required_column_is_named_beside_the_missing_one(conn, landing):
    # rejected as missing, as before, and now with the file's column that is likely it
    name = "usage_events__misspelled.csv"
    content = csv_text([usage("u1")]).replace("occurred_at", "ocurred_at", 1)
    (landing / name).write_text(content, encoding="utf-8")
    report = load_all(conn, landing)[name]
    assert report.status == "rejected"
    assert report.message == (
        f"{name}: missing column(s) occurred_at of export usage_events (the file has ocurred_at "
        "(for occurred_at?))"
    )
