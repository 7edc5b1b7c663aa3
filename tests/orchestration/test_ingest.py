"""The loader against real DuckDB files: every rule of the export contract, duplicates, formats,
audit."""

from __future__ import annotations

import csv
import gzip
import json
import os
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import loader
from orchestration.lib.contract import CROSS_ROW_RULES, EXPORTS, IMPLAUSIBLE_TIME, LOAD_ORDER
from orchestration.lib.contract.rules import ValueRule, value_rules

# One clean row per export; a test copies it and changes what it is about.
GOOD_ROWS = {
    "accounts": {
        "account_id": "a1",
        "account_name": "Acme",
        "segment": "smb",
        "country": "DE",
        "currency": "EUR",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    },
    "plans": {
        "plan_id": "p1",
        "plan_name": "Team",
        "currency": "EUR",
        "billing_interval": "month",
        "seat_unit_amount": "30.00",
        "platform_fee_amount": "",
        "effective_from": "2025-01-01",
    },
    "subscriptions": {
        "subscription_id": "s1",
        "account_id": "a1",
        "plan_id": "p1",
        "status": "active",
        "started_at": "2025-01-01T00:00:00Z",
        "canceled_at": "",
        "updated_at": "2025-01-01T00:00:00Z",
    },
    "seat_events": {
        "event_id": "e1",
        "account_id": "a1",
        "subscription_id": "s1",
        "event_type": "seat_added",
        "quantity": "1",
        "seat_role": "member",
        "user_id": "u1",
        "effective_at": "2025-02-01T00:00:00Z",
        "recorded_at": "2025-02-01T00:00:00Z",
        "corrects_event_id": "",
        "source": "app",
    },
    "usage_events": {
        "event_id": "ue1",
        "account_id": "a1",
        "actor_type": "human",
        "user_id": "u1",
        "agent_id": "",
        "occurred_at": "2025-02-01T10:00:00Z",
        "feature": "chat",
        "model": "small",
        "input_tokens": "100",
        "output_tokens": "50",
        "tasks": "1",
        "outcome": "resolved",
    },
    "invoices": {
        "invoice_id": "i1",
        "account_id": "a1",
        "subscription_id": "s1",
        "currency": "EUR",
        "period_start": "2025-01-01T00:00:00Z",
        "period_end": "2025-02-01T00:00:00Z",
        "issued_at": "2025-01-01T00:00:00Z",
        "status": "paid",
        "subtotal": "150.00",
        "tax": "0",
        "total": "150.00",
        "updated_at": "2025-01-01T00:00:00Z",
    },
    "invoice_lines": {
        "line_id": "l1",
        "invoice_id": "i1",
        "line_type": "subscription",
        "description": "5 seats",
        "quantity": "5",
        "unit_amount": "30.00",
        "amount": "150.00",
        "period_start": "2025-01-01T00:00:00Z",
        "period_end": "2025-02-01T00:00:00Z",
        "source_event_id": "",
    },
    "fx_rates": {"rate_date": "2025-01-01", "currency": "EUR", "usd_per_unit": "1.08"},
    "price_model_assignments": {
        "assignment_id": "pa1",
        "account_id": "a1",
        "price_model_id": "hybrid_seat_plus_tokens",
        "effective_from": "2025-02-01T00:00:00Z",
        "effective_to": "",
        "cohort": "pilot",
        "updated_at": "2025-01-20T00:00:00Z",
    },
    "support_tickets": {
        "ticket_id": "t1",
        "account_id": "a1",
        "created_at": "2025-01-01T00:00:00Z",
        "category": "billing",
    },
}
KEY_OF = {name: export.key[0] for name, export in EXPORTS.items()}


def row(export: str, **changes: str) -> dict[str, str]:
    return {**GOOD_ROWS[export], **changes}


def keyed(export: str, which: str, **changes: str) -> dict[str, str]:
    """A row with its own key: "good" or "bad" (fx_rates is keyed by a currency code)."""
    if export == "fx_rates":
        return row(export, **{"currency": {"good": "GBP", "bad": "CHF"}[which], **changes})
    return row(export, **{KEY_OF[export]: which, **changes})


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    text = "".join(json.dumps(record) + "\n" for record in records)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_parquet(path: Path, select_sql: str) -> Path:
    """Parquet with the native types the select gives, written by DuckDB itself."""
    with duckdb.connect() as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(f"copy ({select_sql}) to '{path}' (format parquet)")
    return path


def reference_files(landing: Path) -> None:
    """Accounts a1 (EUR) and a2 (USD), plan p1, subscriptions s1 (a1) and s2 (a2), invoice i1."""
    write_csv(
        landing / "accounts__base.csv",
        [row("accounts"), row("accounts", account_id="a2", currency="USD")],
    )
    write_csv(landing / "plans__base.csv", [row("plans")])
    write_csv(
        landing / "subscriptions__base.csv",
        [row("subscriptions"), row("subscriptions", subscription_id="s2", account_id="a2")],
    )
    write_csv(landing / "invoices__base.csv", [row("invoices")])


def load_all(conn: duckdb.DuckDBPyConnection, landing: Path, refresh_id: str = "r1"):
    """What a refresh does: unknown files first, then every export in load order."""
    files = loader.landing_files(landing)
    reports = loader.reject_unrecognised(conn, files.get(None, []), refresh_id)
    for export in LOAD_ORDER:
        reports += loader.load_export(conn, landing, export, refresh_id)
    for report in reports:
        assert report.rows_read == (
            report.rows_loaded + report.rows_duplicate + report.rows_quarantined
        ), report
    return {report.file_name: report for report in reports}


def quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "select file_name, row_number, rule, raw_record, rules from audit.quarantine"
        " order by file_name, row_number"
    ).fetchall()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    reference_files(folder)
    return folder


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


PER_VALUE_CASES = [
    ("accounts", "segment", "", "required:segment"),
    ("accounts", "segment", "huge", "allowed_values:segment"),
    ("accounts", "created_at", "yesterday", "type:created_at"),
    ("accounts", "created_at", "2025-01-01T00:00:00", "timestamp_without_offset:created_at"),
    ("accounts", "country", "Germany", "pattern:country"),
    ("plans", "seat_unit_amount", "-1", "minimum:seat_unit_amount"),
    ("plans", "seat_unit_amount", "1.23456", "too_many_decimals:seat_unit_amount"),
    ("plans", "seat_unit_amount", "ten", "type:seat_unit_amount"),
    ("plans", "effective_from", "2025-13-01", "type:effective_from"),
    ("fx_rates", "usd_per_unit", "0", "minimum:usd_per_unit"),
    ("usage_events", "tasks", "-1", "minimum:tasks"),
    ("usage_events", "input_tokens", "1.5", "type:input_tokens"),
    ("seat_events", "quantity", "0", "minimum:quantity"),
    ("support_tickets", "category", "praise", "allowed_values:category"),
]


@pytest.mark.parametrize(("export", "column", "bad_value", "rule"), PER_VALUE_CASES)
def test_a_value_breaking_a_rule_quarantines_exactly_its_row_with_the_original_values(
    conn, landing, export, column, bad_value, rule
):
    rows = [keyed(export, "good"), keyed(export, "bad", **{column: bad_value})]
    write_csv(landing / f"{export}__new.csv", rows)

    reports = load_all(conn, landing)

    report = reports[f"{export}__new.csv"]
    assert (report.rows_read, report.rows_quarantined) == (2, 1)
    [(_, row_number, first_rule, raw_record, rules)] = [
        entry for entry in quarantine(conn) if entry[0] == f"{export}__new.csv"
    ]
    assert (row_number, first_rule, rules) == (2, rule, [rule])
    assert json.loads(raw_record) == rows[1]


def bad_value(rule: ValueRule) -> str:
    """A value that breaks the rule and no value rule before it."""
    column = rule.column
    if rule.kind == "required":
        return ""
    if rule.kind == "type":
        return {"timestamp": "yesterday", "date": "2025-13-01", "integer": "1.5"}.get(
            column.type, "ten"
        )
    if rule.kind == "timestamp_without_offset":
        return "2025-01-01T00:00:00"
    if rule.kind == "allowed_values":
        return "not_allowed"
    if rule.kind == "minimum":
        bound = column.minimum if column.minimum is not None else column.exclusive_minimum
        return str(bound - 1 if column.minimum is not None else bound)
    if rule.kind == "too_many_decimals":
        return "1.123456789"
    if rule.kind == "pattern":
        return "??"
    raise AssertionError(f"no bad value for {rule}")


# Every value rule the contract puts on every column: the loader must name each one.
VALUE_RULE_CASES = [
    (export.name, rule.column.name, bad_value(rule), rule.name)
    for export in EXPORTS.values()
    for rule in value_rules(export)
]


@pytest.mark.parametrize(("export", "column", "bad_value", "rule"), VALUE_RULE_CASES)
def test_every_value_rule_of_the_contract_quarantines_its_row_under_its_name(
    conn, landing, export, column, bad_value, rule
):
    rows = [keyed(export, "good"), keyed(export, "bad", **{column: bad_value})]
    write_csv(landing / f"{export}__new.csv", rows)

    reports = load_all(conn, landing)

    report = reports[f"{export}__new.csv"]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (2, 1, 1)
    [(_, row_number, first_rule, raw_record, rules)] = [
        entry for entry in quarantine(conn) if entry[0] == f"{export}__new.csv"
    ]
    assert (row_number, first_rule, rules[0]) == (2, rule, rule)
    assert json.loads(raw_record) == rows[1]


# Every time column the plausible-time rule judges, too late and too early.
PLAUSIBLE_TIME_CASES = [
    (export.name, column.name, value)
    for export in EXPORTS.values()
    for column in export.columns
    if column.name in IMPLAUSIBLE_TIME.columns
    for value in (
        ("2099-02-10", "1999-12-31")
        if column.type == "date"
        else ("2099-02-10T10:00:00Z", "1970-01-01T00:00:00Z")
    )
]


@pytest.mark.parametrize(("export", "column", "value"), PLAUSIBLE_TIME_CASES)
def test_a_wrong_clock_in_any_time_column_is_quarantined_as_implausible_time(
    conn, landing, export, column, value
):
    rows = [keyed(export, "good"), keyed(export, "bad", **{column: value})]
    write_csv(landing / f"{export}__clock.csv", rows)

    reports = load_all(conn, landing, "20261122T090000Z-0a1b2c3d")

    assert reports[f"{export}__clock.csv"].rows_quarantined == 1
    [(_, row_number, rule, raw_record, _)] = [
        entry for entry in quarantine(conn) if entry[0] == f"{export}__clock.csv"
    ]
    assert (row_number, rule) == (2, "implausible_time")
    assert json.loads(raw_record)[column] == value


CROSS_ROW_CASES = [
    ("subscriptions", [], {"account_id": "zz"}, "unknown_account"),
    ("subscriptions", [], {"plan_id": "pz"}, "unknown_plan"),
    ("seat_events", [], {"account_id": "zz"}, "unknown_account"),
    ("seat_events", [], {"subscription_id": "sz"}, "unknown_subscription"),
    ("seat_events", [], {"subscription_id": "s2"}, "subscription_of_other_account"),
    ("seat_events", [], {"event_type": "correction"}, "corrects_event_id_required"),
    ("seat_events", [], {"corrects_event_id": "e1"}, "corrects_event_id_not_allowed"),
    (
        "seat_events",
        [],
        {"event_type": "correction", "corrects_event_id": "nowhere"},
        "corrected_event_unknown",
    ),
    (
        "seat_events",
        [{"event_id": "c1", "event_type": "correction", "corrects_event_id": "good"}],
        {"event_type": "correction", "corrects_event_id": "c1"},
        "correction_of_correction",
    ),
    ("usage_events", [], {"account_id": "zz"}, "unknown_account"),
    ("usage_events", [], {"user_id": ""}, "user_id_required_for_human"),
    ("usage_events", [], {"actor_type": "agent", "agent_id": "bot"}, "agent_id_required_for_agent"),
    ("invoices", [], {"account_id": "zz"}, "unknown_account"),
    ("invoices", [], {"currency": "USD"}, "currency_differs_from_account"),
    (
        "invoices",
        [],
        {"period_end": "2025-01-01T00:00:00Z"},
        "period_end_not_after_start",
    ),
    ("invoice_lines", [], {"invoice_id": "iz"}, "unknown_invoice"),
    # The good assignment runs from 2025-02-01 on, open-ended: a bad row of another account, or
    # one that breaks its rule before any overlap is judged, overlaps nothing.
    ("price_model_assignments", [], {"account_id": "zz"}, "unknown_account"),
    ("price_model_assignments", [], {"price_model_id": "per_vibe"}, "unknown_price_model"),
    (
        "price_model_assignments",
        [],
        {"effective_to": "2025-02-01T00:00:00Z"},
        "effective_to_not_after_from",
    ),
    # Starts a month after the good one, which never ends: the later-starting one is blamed.
    (
        "price_model_assignments",
        [],
        {"effective_from": "2025-03-01T00:00:00Z"},
        "overlapping_assignment",
    ),
]


@pytest.mark.parametrize(("export", "more_good", "changes", "rule"), CROSS_ROW_CASES)
def test_a_row_breaking_a_cross_row_rule_quarantines_exactly_that_row(
    conn, landing, export, more_good, changes, rule
):
    key = KEY_OF[export]
    # The later good rows are created with a later recorded_at than the first (an add of 1 seat).
    good_rows = [row(export, **{key: "good"})] + [
        row(export, recorded_at="2025-02-02T00:00:00Z", quantity="1", **extra)
        for extra in more_good
    ]
    bad = row(export, **{key: "bad", **changes})
    if export == "seat_events":
        bad["recorded_at"] = "2025-02-03T00:00:00Z"
    write_csv(landing / f"{export}__new.csv", [*good_rows, bad])

    reports = load_all(conn, landing)

    report = reports[f"{export}__new.csv"]
    assert (report.rows_loaded, report.rows_quarantined) == (len(good_rows), 1)
    [(_, row_number, first_rule, raw_record, _)] = quarantine(conn)
    assert (row_number, first_rule) == (len(good_rows) + 1, rule)
    assert json.loads(raw_record) == bad


def test_every_cross_row_rule_is_exercised_by_a_test():
    tested = {case[3] for case in CROSS_ROW_CASES} | {"seats_below_zero"}
    assert tested == set(CROSS_ROW_RULES)


def test_subscription_ownership_and_invoice_currency_follow_the_latest_versions(conn, landing):
    # s1 moves from a1 to a2; a2 changes its currency from USD to EUR.
    write_csv(
        landing / "subscriptions__move.csv",
        [row("subscriptions", account_id="a2", updated_at="2025-03-01T00:00:00Z")],
    )
    write_csv(
        landing / "accounts__currency.csv",
        [row("accounts", account_id="a2", currency="GBP", updated_at="2025-03-01T00:00:00Z")],
    )
    write_csv(
        landing / "seat_events__new.csv",
        [row("seat_events", event_id="e_a1"), row("seat_events", event_id="e_a2", account_id="a2")],
    )
    write_csv(
        landing / "invoices__new.csv",
        [
            row("invoices", invoice_id="i_usd", account_id="a2", currency="USD"),
            row("invoices", invoice_id="i_gbp", account_id="a2", currency="GBP"),
        ],
    )

    load_all(conn, landing)

    assert [(entry[0], entry[2]) for entry in quarantine(conn)] == [
        ("invoices__new.csv", "currency_differs_from_account"),
        ("seat_events__new.csv", "subscription_of_other_account"),
    ]
    invoices = conn.execute("select invoice_id from billing.invoices order by 1").fetchall()
    assert invoices == [("i1",), ("i_gbp",)]
    seat_events = conn.execute("select event_id from entitlements.seat_events").fetchall()
    assert seat_events == [("e_a2",)]


def seat(event_id: str, event_type: str, quantity: int, effective: str, **extra: str):
    return row(
        "seat_events",
        event_id=event_id,
        event_type=event_type,
        quantity=str(quantity),
        effective_at=f"{effective}T00:00:00Z",
        recorded_at=extra.pop("recorded", f"{effective}T00:00:00Z"),
        **extra,
    )


def test_a_back_dated_removal_that_would_take_seats_below_zero_later_is_quarantined(conn, landing):
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add2", "seat_added", 2, "2025-01-01"),
            seat("rem2", "seat_removed", 2, "2025-03-01"),
        ],
    )
    load_all(conn, landing, "r1")
    # Back-dated to February, recorded in April: 2 - 1 = 1 in February looks fine, but the
    # March removal of 2 then leaves 2 - 1 - 2 = -1. A later add keeps its own file clean.
    write_csv(
        landing / "seat_events__2.csv",
        [
            seat("late", "seat_removed", 1, "2025-02-01", recorded="2025-04-01T00:00:00Z"),
            seat("add1", "seat_added", 1, "2025-04-02"),
        ],
    )
    reports = load_all(conn, landing, "r2")

    assert reports["seat_events__2.csv"].rows_loaded == 1
    assert [(entry[0], entry[1], entry[2]) for entry in quarantine(conn)] == [
        ("seat_events__2.csv", 1, "seats_below_zero")
    ]


def test_a_correction_voids_an_add_and_is_quarantined_when_that_leaves_seats_below_zero(
    conn, landing
):
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add3", "seat_added", 3, "2025-01-01"),
            seat("add2", "seat_added", 2, "2025-01-02"),
            seat("rem3", "seat_removed", 3, "2025-02-01"),
            # Voiding add2 leaves 3 - 3 = 0: allowed.
            seat("fix2", "correction", 1, "2025-02-02", corrects_event_id="add2"),
            # Voiding add3 as well would leave 0 - 3 = -3 at February 1st.
            seat("fix3", "correction", 1, "2025-02-03", corrects_event_id="add3"),
        ],
    )
    reports = load_all(conn, landing)

    assert reports["seat_events__1.csv"].rows_loaded == 4
    assert [(entry[1], entry[2]) for entry in quarantine(conn)] == [(5, "seats_below_zero")]
    # The voided add stays in the raw layer; history is marked downstream, never deleted.
    loaded = conn.execute("select event_id from entitlements.seat_events order by 1").fetchall()
    assert loaded == [("add2",), ("add3",), ("fix2",), ("rem3",)]


def test_a_file_missing_a_column_is_rejected_whole_and_names_file_and_column(conn, landing):
    header = [name for name in GOOD_ROWS["accounts"] if name != "segment"]
    write_csv(landing / "accounts__broken.csv", [row("accounts", account_id="a9")], header)

    reports = load_all(conn, landing)

    report = reports["accounts__broken.csv"]
    assert report.status == "rejected"
    assert "accounts__broken.csv" in report.message and "segment" in report.message
    assert reports["accounts__base.csv"].rows_loaded == 2


def test_an_optional_column_may_be_absent(conn, landing):
    header = [name for name in GOOD_ROWS["plans"] if name != "platform_fee_amount"]
    write_csv(landing / "plans__lean.csv", [row("plans", plan_id="p2")], header)

    reports = load_all(conn, landing)

    assert reports["plans__lean.csv"].rows_loaded == 1


def test_a_misspelled_optional_column_is_named_with_the_column_it_likely_means(conn, landing):
    # An optional column spelled otherwise is not missing, so the file loaded, its values in
    # _extra and platform_fee_amount empty, without a word. The report now names the column and
    # the contract's column it is closest to; a column like no other is named alone.
    plan = row("plans", plan_id="p2")
    plan["platform_fee_amnt"] = plan.pop("platform_fee_amount")
    plan["internal_note"] = "x"
    write_csv(landing / "plans__typo.csv", [plan], list(plan))

    report = load_all(conn, landing)["plans__typo.csv"]

    assert report.rows_loaded == 1
    assert report.message == (
        "column(s) not in the contract, kept in _extra: platform_fee_amnt (did you mean "
        "platform_fee_amount?), internal_note"
    )


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("accounts__garbage.parquet", b"\x00\x01 this is not parquet \xff" * 20),
        ("accounts__broken.jsonl", b'{"account_id": "a9", "segment": \n'),
        ("accounts__list.jsonl", b'["not", "an", "object"]\n'),
    ],
)
def test_an_unparseable_file_is_rejected_with_its_name_and_the_others_still_load(
    conn, landing, file_name, content
):
    (landing / file_name).write_bytes(content)

    reports = load_all(conn, landing)

    assert reports[file_name].status == "rejected"
    assert reports[file_name].message.startswith(file_name)
    assert reports["accounts__base.csv"].status == "loaded"
    assert conn.execute("select count(*) from crm.accounts").fetchall() == [(2,)]


def test_a_header_only_file_loads_with_zero_rows(conn, landing):
    write_csv(landing / "usage_events__empty.csv", [], list(GOOD_ROWS["usage_events"]))
    (landing / "usage_events__empty.jsonl").write_text("")

    reports = load_all(conn, landing)

    for name in ("usage_events__empty.csv", "usage_events__empty.jsonl"):
        assert (reports[name].status, reports[name].rows_read) == ("loaded", 0)


def test_files_of_no_export_are_rejected_and_hidden_files_ignored(conn, landing):
    (landing / "invoicez__x.csv").write_text("a\n1\n")
    (landing / "accounts__x.xlsx").write_text("a\n1\n")
    (landing / "_notes.csv").write_text("a\n1\n")
    (landing / ".accounts__x.csv").write_text("a\n1\n")

    files = loader.landing_files(landing)
    reports = load_all(conn, landing)

    assert [path.name for path in files[None]] == ["accounts__x.xlsx", "invoicez__x.csv"]
    assert reports["invoicez__x.csv"].status == "rejected"
    assert "invoicez" in reports["invoicez__x.csv"].message
    assert "extension" in reports["accounts__x.xlsx"].message
    assert "_notes.csv" not in reports and ".accounts__x.csv" not in reports


def test_a_folder_inside_the_landing_folder_is_reported_not_silently_skipped(conn, landing):
    # The files of a subfolder are not read; before, the folder appeared in no report at all.
    (landing / "december").mkdir()
    (landing / "december" / "accounts__late.csv").write_text("a\n1\n")
    (landing / "_archive").mkdir()  # a note, as a file named _x is

    reports = load_all(conn, landing)

    report = reports["december"]
    assert (report.status, report.export, report.rows_read) == ("rejected", None, 0)
    assert report.message.startswith("december: is a folder: the files of folders inside")
    assert "name the folder _december" in report.message
    assert "_archive" not in reports and "accounts__late.csv" not in reports
    assert "december" not in loader.landing_listing(landing)  # nothing for the sensor to wake on


def test_a_csv_row_with_the_wrong_field_count_is_quarantined_and_later_rows_keep_their_number(
    conn, landing
):
    lines = [
        ",".join(GOOD_ROWS["usage_events"]),
        ",".join(row("usage_events", event_id="u1").values()),
        "u2,a1,human,u1",
        ",".join(row("usage_events", event_id="u3").values()),
    ]
    (landing / "usage_events__ragged.csv").write_text("\n".join(lines) + "\n")

    reports = load_all(conn, landing)

    report = reports["usage_events__ragged.csv"]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    [(_, row_number, rule, raw_record, _)] = quarantine(conn)
    assert (row_number, rule) == (2, "malformed_row")
    assert json.loads(raw_record)["_csv_line"] == "u2,a1,human,u1"
    loaded = conn.execute(
        "select event_id, _row_number from telemetry.usage_events order by 2"
    ).fetchall()
    assert loaded == [("u1", 1), ("u3", 3)]


def test_duplicates_within_a_file_across_files_and_across_refreshes_are_counted_once(conn, landing):
    usage = [row("usage_events", event_id=event_id) for event_id in ("u1", "u2", "u1")]
    write_csv(landing / "usage_events__1.csv", usage)
    write_jsonl(
        landing / "usage_events__2.jsonl.gz",
        [row("usage_events", event_id="u2"), row("usage_events", event_id="u3")],
    )
    first = load_all(conn, landing, "r1")
    write_csv(
        landing / "usage_events__3.csv", [row("usage_events", event_id=e) for e in ("u1", "u4")]
    )
    second = load_all(conn, landing, "r2")

    counts = lambda report: (report.rows_read, report.rows_loaded, report.rows_duplicate)  # noqa: E731
    assert counts(first["usage_events__1.csv"]) == (3, 2, 1)
    assert counts(first["usage_events__2.jsonl.gz"]) == (2, 1, 1)
    assert counts(second["usage_events__3.csv"]) == (2, 1, 1)
    assert second["usage_events__1.csv"].status == "skipped_already_loaded"
    loaded = conn.execute("select event_id from telemetry.usage_events order by 1").fetchall()
    assert loaded == [("u1",), ("u2",), ("u3",), ("u4",)]


def test_snapshot_exports_keep_every_newer_version_and_drop_older_or_equal_ones(conn, landing):
    version = lambda day, name: row(  # noqa: E731
        "accounts", account_name=name, updated_at=f"2025-{day}T00:00:00Z"
    )
    write_csv(
        landing / "accounts__v2.csv",
        # March is newer than January (kept); February after March in the same file is older.
        [version("03-01", "March"), version("02-01", "February")],
    )
    write_csv(landing / "accounts__v3.csv", [version("03-01", "March again")])

    reports = load_all(conn, landing)

    assert (
        reports["accounts__v2.csv"].rows_loaded,
        reports["accounts__v2.csv"].rows_duplicate,
    ) == (
        1,
        1,
    )
    assert reports["accounts__v3.csv"].rows_duplicate == 1
    versions = conn.execute(
        "select account_name from crm.accounts where account_id = 'a1' order by updated_at"
    ).fetchall()
    assert versions == [("Acme",), ("March",)]


def table_fingerprints(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    relations = [export.relation for export in EXPORTS.values()] + ["audit.quarantine"]
    return {
        relation: conn.execute(f"select count(*), sum(hash(t)) from {relation} as t").fetchall()[0]
        for relation in relations
    }


def test_loading_the_same_folder_again_changes_no_table(conn, landing):
    write_csv(landing / "usage_events__1.csv.gz", [row("usage_events"), row("usage_events")])
    write_csv(
        landing / "seat_events__1.csv", [row("seat_events"), row("seat_events", quantity="x")]
    )
    (landing / "plans__bad.parquet").write_bytes(b"nope")
    load_all(conn, landing, "r1")
    before = table_fingerprints(conn)

    reports = load_all(conn, landing, "r2")

    assert table_fingerprints(conn) == before
    assert {report.status for report in reports.values()} == {
        "skipped_already_loaded",
        "rejected",
    }


def test_a_daily_refresh_hashes_only_files_it_has_not_seen_as_they_are(conn, landing, monkeypatch):
    """A file judged before, with the same name, size and modification time, is known by the
    hash that refresh took; a file rewritten in place is read and hashed again."""
    from orchestration.lib.loader import files

    usage = landing / "usage_events__1.csv"
    write_csv(usage, [row("usage_events", event_id="u1")])
    an_hour_ago = time.time_ns() - 3600 * 10**9
    for path in landing.iterdir():  # delivered well before the refresh
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    load_all(conn, landing, "r1")
    hashed: list[str] = []
    real_sha256 = files.file_sha256
    monkeypatch.setattr(
        files, "file_sha256", lambda path: hashed.append(path.name) or real_sha256(path)
    )

    write_csv(landing / "usage_events__2.csv", [row("usage_events", event_id="u2")])
    second = load_all(conn, landing, "r2")
    assert hashed == ["usage_events__2.csv"]  # the day's file only
    hashed.clear()
    # The day's file was judged moments after it was written: too close to trust its time yet.
    load_all(conn, landing, "r2b")
    assert hashed == ["usage_events__2.csv"]
    assert second["usage_events__1.csv"].status == "skipped_already_loaded"
    assert second["usage_events__2.csv"].rows_loaded == 1

    # The same size, another event and a later time: rewritten in place, so hashed and loaded.
    stat = usage.stat()
    write_csv(usage, [row("usage_events", event_id="u9")])
    assert usage.stat().st_size == stat.st_size
    hashed.clear()
    third = load_all(conn, landing, "r3")
    assert "usage_events__1.csv" in hashed  # (and the day's file, still too new to trust)
    assert third["usage_events__1.csv"].rows_loaded == 1
    stamps = conn.execute(
        """select count(*) from audit.load_report
        where file_size_bytes is null or file_mtime_ns is null"""
    ).fetchone()
    assert stamps == (0,)


def test_parquet_native_types_load_without_text_round_trips(conn, landing):
    write_parquet(
        landing / "plans__native.parquet",
        """select 'p2' as plan_id, 'Pro' as plan_name, 'EUR' as currency,
            'year' as billing_interval, 12.5::decimal(18, 2) as seat_unit_amount,
            3::bigint as platform_fee_amount, date '2025-06-01' as effective_from
        union all
        select 'p3', 'Odd', 'EUR', 'year', 1.234567::decimal(18, 6), null, date '2025-06-01'""",
    )
    write_parquet(
        landing / "accounts__native.parquet",
        """select 'a7' as account_id, 'Zed' as account_name, 'smb' as segment, 'FR' as country,
            'EUR' as currency, timestamptz '2025-01-01 12:00:00+02:00' as created_at,
            timestamptz '2025-01-01 12:00:00+00:00' as updated_at""",
    )
    write_parquet(
        landing / "accounts__naive.parquet",
        """select 'a8' as account_id, 'Naive' as account_name, 'smb' as segment, 'FR' as country,
            'EUR' as currency, timestamptz '2025-01-01 00:00:00+00' as created_at,
            timestamp '2025-01-01 00:00:00' as updated_at""",
    )

    load_all(conn, landing)

    plans = conn.execute(
        "select plan_id, seat_unit_amount, platform_fee_amount from billing.plans"
        " where plan_id = 'p2'"
    ).fetchall()
    assert plans == [("p2", Decimal("12.5000"), Decimal("3.0000"))]
    created = conn.execute("select created_at from crm.accounts where account_id = 'a7'")
    assert str(created.fetchall()[0][0]) == "2025-01-01 10:00:00"  # 12:00 at +02:00 is 10:00 UTC
    assert [(entry[0], entry[2]) for entry in quarantine(conn)] == [
        ("accounts__naive.parquet", "timestamp_without_offset:updated_at"),
        ("plans__native.parquet", "too_many_decimals:seat_unit_amount"),
    ]


def test_jsonl_values_are_typed_and_extra_keys_are_kept_in_extra(conn, landing):
    write_jsonl(
        landing / "usage_events__1.jsonl",
        [
            {**row("usage_events"), "input_tokens": 7, "tasks": "", "region": "eu"},
        ],
    )

    load_all(conn, landing)

    loaded = conn.execute(
        "select input_tokens, tasks, _extra from telemetry.usage_events"
    ).fetchall()
    assert loaded == [(7, 1, '{"region":"eu"}')]  # an empty tasks takes its default of 1


def test_money_is_stored_exactly_as_a_decimal_never_a_float(conn, landing):
    write_csv(landing / "plans__cents.csv", [row("plans", plan_id="p2", seat_unit_amount="0.1000")])

    load_all(conn, landing)

    [(amount, sql_type)] = conn.execute(
        "select seat_unit_amount, typeof(seat_unit_amount) from billing.plans where plan_id = 'p2'"
    ).fetchall()
    assert (amount, sql_type) == (Decimal("0.1000"), "DECIMAL(18,4)")


def test_the_landing_listing_a_watcher_compares_holds_what_the_loader_would_look_at(landing):
    (landing / "invoicez__x.csv").write_text("a\n1\n")  # no export, but a landing file
    (landing / "accounts__x.xlsx").write_text("a\n1\n")  # no accepted extension
    (landing / "_notes.csv").write_text("a\n1\n")
    (landing / ".accounts__x.csv").write_text("a\n1\n")

    listing = loader.landing_listing(landing)

    assert list(listing) == [
        "accounts__base.csv",
        "invoices__base.csv",
        "invoicez__x.csv",
        "plans__base.csv",
        "subscriptions__base.csv",
    ]
    stat = (landing / "plans__base.csv").stat()
    assert listing["plans__base.csv"] == [stat.st_size, stat.st_mtime_ns]
