"""The synthetic vendor (`seatshift generate`): determinism, contract, billing truth, story.

The billing checks recompute periods, seat quantities and prorations here, independently, in plain
Python (datetime, Decimal, csv) from the generated files, without importing the generator's code.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import itertools
import json
import re
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.contract import EXPORTS, IMPLAUSIBLE_TIME
from orchestration.lib.generator import SAMPLE_PARAMETERS, generate, generated_files, write_sample
from orchestration.lib.settings import SEEDS_DIR

SMALL = {"accounts": 14, "months": 7, "start": "2025-11", "usage_per_seat_day": 0.3}


def _digests(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in generated_files(directory)
    }


def _rows(directory: Path, export: str) -> list[dict[str, str]]:
    """Every CSV row of an export, in file-name order, with its file name and 1-based row number."""
    rows = []
    for path in sorted(directory.glob(f"{export}__*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                rows.append(row | {"_file": path.name, "_row": number})
    return rows


def _good_rows(directory: Path, manifest: dict, export: str) -> list[dict[str, str]]:
    bad = {(row["file"], row["row_number"]) for row in manifest["bad_rows"]}
    return [row for row in _rows(directory, export) if (row["_file"], row["_row"]) not in bad]


def _latest(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    latest: dict[str, dict[str, str]] = {}
    for row in rows:
        if row[key] not in latest or row["updated_at"] > latest[row[key]]["updated_at"]:
            latest[row[key]] = row
    return latest


def _instant(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    directory = tmp_path_factory.mktemp("sample")
    manifest = write_sample(directory)
    return directory, manifest


@pytest.fixture(scope="module")
def formats(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    generated = {}
    for fmt in ("csv", "jsonl", "parquet"):
        directory = tmp_path_factory.mktemp(fmt)
        generated[fmt] = (directory, generate(directory, fmt=fmt, **SMALL))
    return generated


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_the_same_seed_gives_byte_identical_files(fmt, formats, tmp_path):
    first, _ = formats[fmt]
    generate(tmp_path, fmt=fmt, **SMALL)
    assert _digests(tmp_path) == _digests(first)


def test_a_different_seed_gives_different_data(formats, tmp_path):
    first, _ = formats["csv"]
    generate(tmp_path, fmt="csv", **(SMALL | {"seed": 8}))
    before, after = _digests(first), _digests(tmp_path)
    assert before["seat_events__ledger.csv"] != after["seat_events__ledger.csv"]
    assert before["invoice_lines__billing.csv"] != after["invoice_lines__billing.csv"]


def test_the_committed_sample_is_up_to_date(sample):
    directory, _ = sample
    committed = _digests(SEEDS_DIR)
    assert committed, "seeds/ holds no sample: run write_sample(SEEDS_DIR) (make seeds)"
    assert committed == _digests(directory), "seeds/ is stale: regenerate it with make seeds"


def test_every_export_has_files_named_by_the_loader_convention(sample):
    directory, manifest = sample
    names = [path.name for path in generated_files(directory) if path.name != "_manifest.json"]
    assert {name.split("__", 1)[0] for name in names} == set(EXPORTS)
    months = [name for name in names if re.fullmatch(r"usage_events__\d{4}-\d{2}\.csv", name)]
    assert len(months) == SAMPLE_PARAMETERS["months"]
    assert sum(manifest["files"].values()) == sum(manifest["row_counts"].values())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_every_file_carries_exactly_the_contract_columns(fmt, formats):
    directory, _ = formats[fmt]
    connection = duckdb.connect()
    for path in generated_files(directory):
        if path.name.startswith("_"):
            continue
        expected = EXPORTS[path.name.split("__", 1)[0]].column_names
        if fmt == "csv":
            with path.open(encoding="utf-8", newline="") as handle:
                columns = next(csv.reader(handle))
        elif fmt == "jsonl":
            with path.open(encoding="utf-8") as handle:
                columns = sorted({key for line in handle for key in json.loads(line)})
            expected = sorted(expected)
        else:
            columns = [row[0] for row in connection.execute(f"describe from '{path}'").fetchall()]
        assert columns == expected, path.name


def test_all_three_formats_load_with_duckdb_readers_and_native_parquet_types(formats):
    connection = duckdb.connect()
    readers = {
        "csv": "read_csv('{}', all_varchar = true)",
        "jsonl": "read_json('{}')",
        "parquet": "read_parquet('{}')",
    }
    for fmt, (directory, manifest) in formats.items():
        for export, expected in manifest["row_counts"].items():
            if not list(directory.glob(f"{export}__*.{fmt}")):
                # 7 months are too short for a pilot (6 months of history, then 4 to watch):
                # the optional export is not written at all.
                assert (export, expected) == ("price_model_assignments", 0)
                continue
            pattern = (directory / f"{export}__*.{fmt}").as_posix()
            count = connection.execute(
                f"select count(*) from {readers[fmt].format(pattern)}"
            ).fetchall()
            assert count[0][0] == expected, (fmt, export)
    directory, _ = formats["parquet"]

    def types(path: Path) -> dict[str, str]:
        return {row[0]: row[1] for row in connection.execute(f"describe from '{path}'").fetchall()}

    lines = types(directory / "invoice_lines__billing.parquet")
    assert lines["amount"] == "DECIMAL(18,4)"
    assert lines["period_start"] == "TIMESTAMP WITH TIME ZONE"
    usage = types(next(directory.glob("usage_events__*.parquet")))
    assert usage["occurred_at"] == "TIMESTAMP WITH TIME ZONE"
    assert usage["input_tokens"] == "BIGINT"


def test_values_are_written_as_the_contract_spells_them(sample):
    directory, manifest = sample
    rows = _good_rows(directory, manifest, "invoice_lines") + _good_rows(
        directory, manifest, "invoices"
    )
    for row in rows:
        for column in ("amount", "unit_amount", "subtotal", "tax", "total"):
            if row.get(column):
                assert re.fullmatch(r"-?\d+\.\d{2}", row[column]), (column, row)
        for column in ("period_start", "period_end", "issued_at", "updated_at"):
            if row.get(column):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[column]), (column, row)


def test_invoice_subtotal_equals_its_lines_and_total_is_subtotal_plus_tax(sample):
    directory, manifest = sample
    invoices = _latest(_good_rows(directory, manifest, "invoices"), "invoice_id")
    line_sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in _good_rows(directory, manifest, "invoice_lines"):
        line_sums[line["invoice_id"]] += Decimal(line["amount"])
    assert set(line_sums) <= set(invoices)
    for invoice_id, invoice in invoices.items():
        subtotal, tax, total = (Decimal(invoice[name]) for name in ("subtotal", "tax", "total"))
        assert subtotal == line_sums[invoice_id], invoice_id
        assert total == subtotal + tax, invoice_id
        assert tax >= 0


def _add_months(anchor: datetime, months: int) -> datetime:
    year = anchor.year + (anchor.month - 1 + months) // 12
    month = (anchor.month - 1 + months) % 12 + 1
    return anchor.replace(
        year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1])
    )


def _assigned_model_invoices(
    directory: Path, manifest: dict, subscriptions: dict[str, dict[str, str]]
) -> tuple[dict[str, dict[str, str]], set[str]]:
    """The seat invoices, and the ids of the invoices of an account billed under an assigned
    proposal from its switch on (monthly, checked by the warehouse's reconciliation instead)."""
    switches = {
        row["account_id"]: _instant(row["effective_from"])
        for row in _good_rows(directory, manifest, "price_model_assignments")
        if row["price_model_id"] != "current_per_seat"
    }
    seat_invoices, assigned = {}, set()
    for invoice_id, invoice in _latest(
        _good_rows(directory, manifest, "invoices"), "invoice_id"
    ).items():
        switch = switches.get(subscriptions[invoice["subscription_id"]]["account_id"])
        if switch is not None and _instant(invoice["period_start"]) >= switch:
            assigned.add(invoice_id)
        else:
            seat_invoices[invoice_id] = invoice
    return seat_invoices, assigned


def _recompute(directory: Path, manifest: dict) -> dict[tuple[str, str, str], tuple]:
    """Expected lines by (invoice, line_type, event or kind) -> (quantity, unit, amount, start)."""
    subscriptions = _latest(_good_rows(directory, manifest, "subscriptions"), "subscription_id")
    plans = _good_rows(directory, manifest, "plans")
    events: dict[str, dict[str, str]] = {}
    for row in _good_rows(directory, manifest, "seat_events"):
        events.setdefault(row["event_id"], row)  # a re-delivery is the same event
    voided = {
        row["corrects_event_id"] for row in events.values() if row["event_type"] == "correction"
    }
    sign = {"seat_added": 1, "seat_reactivated": 1, "seat_removed": -1, "seat_suspended": -1}
    ledger = defaultdict(list)
    for row in events.values():
        if row["event_id"] not in voided and row["event_type"] in sign:
            delta = sign[row["event_type"]] * int(row["quantity"])
            ledger[row["subscription_id"]].append(
                (_instant(row["effective_at"]), delta, row["event_id"])
            )

    def price(plan_id: str, at: datetime) -> dict[str, str]:
        rows = [
            p
            for p in plans
            if p["plan_id"] == plan_id and p["effective_from"] <= at.strftime("%Y-%m-%d")
        ]
        return max(rows, key=lambda p: p["effective_from"])

    invoices = _assigned_model_invoices(directory, manifest, subscriptions)[0]
    expected = {}
    for invoice_id, invoice in invoices.items():
        subscription = subscriptions[invoice["subscription_id"]]
        anchor = _instant(subscription["started_at"])
        interval = 12 if price(subscription["plan_id"], anchor)["billing_interval"] == "year" else 1
        index = next(
            i
            for i in range(400)
            if _add_months(anchor, interval * i) == _instant(invoice["period_start"])
        )
        start, end = (
            _add_months(anchor, interval * index),
            _add_months(anchor, interval * (index + 1)),
        )
        assert _instant(invoice["period_end"]) == end, invoice_id
        plan = price(subscription["plan_id"], start)
        seats = sum(
            delta for at, delta, _ in ledger[subscription["subscription_id"]] if at <= start
        )
        assert seats >= 0
        unit = Decimal(plan["seat_unit_amount"])
        expected[(invoice_id, "subscription", "seats")] = (seats, unit, seats * unit, start)
        if plan["platform_fee_amount"]:
            fee = Decimal(plan["platform_fee_amount"])
            expected[(invoice_id, "subscription", "platform")] = (1, fee, fee, start)
        if index == 0:
            continue
        previous = _add_months(anchor, interval * (index - 1))
        previous_unit = Decimal(price(subscription["plan_id"], previous)["seat_unit_amount"])
        length = Decimal(int((start - previous).total_seconds()))
        for at, delta, event_id in ledger[subscription["subscription_id"]]:
            if previous < at < start:
                remaining = Decimal(int((start - at).total_seconds()))
                amount = (delta * previous_unit * remaining / length).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                expected[(invoice_id, "proration", event_id)] = (delta, previous_unit, amount, at)
    return expected


def test_an_independent_recomputation_matches_every_invoice_line_except_the_injected_errors(sample):
    directory, manifest = sample
    expected = _recompute(directory, manifest)
    subscriptions = _latest(_good_rows(directory, manifest, "subscriptions"), "subscription_id")
    assigned = _assigned_model_invoices(directory, manifest, subscriptions)[1]
    assert len(assigned) >= 2  # the pilot's monthly invoices: the warehouse reconciles them
    actual = {}
    for line in _good_rows(directory, manifest, "invoice_lines"):
        if line["line_type"] in ("discount", "credit") or line["invoice_id"] in assigned:
            continue
        kind = (
            line["source_event_id"]
            if line["line_type"] == "proration"
            else ("platform" if line["description"].startswith("Platform fee") else "seats")
        )
        actual[(line["invoice_id"], line["line_type"], kind)] = (
            int(line["quantity"]),
            Decimal(line["unit_amount"]),
            Decimal(line["amount"]),
            _instant(line["period_start"]),
            line["line_id"],
        )
    mismatches = set()
    for key, (quantity, unit, amount, start) in expected.items():
        found = actual.get(key)
        if found is None:
            mismatches.add(("missed_proration", key[0], None, key[2], amount))
        elif found[:4] != (quantity, unit, amount, start):
            mismatches.add(("wrong_line", key[0], found[4], None, amount))
    assert set(actual) <= set(expected), set(actual) - set(expected)
    injected = {
        (
            "missed_proration" if error["kind"] == "missed_proration" else "wrong_line",
            error["invoice_id"],
            error["line_id"],
            error["source_event_id"],
            Decimal(error["expected_amount"]),
        )
        for error in manifest["billing_errors"]
    }
    assert mismatches == injected
    kinds = {error["kind"] for error in manifest["billing_errors"]}
    assert kinds == {"missed_proration", "stale_quantity", "price_mismatch"}
    assert sum(1 for key in expected if key[1] == "proration") > 50


def test_periods_are_clamped_from_the_anchor_day_not_from_the_previous_period_end(sample):
    directory, manifest = sample
    subscriptions = _latest(_good_rows(directory, manifest, "subscriptions"), "subscription_id")
    late_anchors = {
        sid for sid, row in subscriptions.items() if _instant(row["started_at"]).day >= 29
    }
    assert late_anchors, "the sample must exercise clamping"
    starts = defaultdict(set)
    for invoice in _good_rows(directory, manifest, "invoices"):
        if invoice["subscription_id"] in late_anchors:
            starts[invoice["subscription_id"]].add(_instant(invoice["period_start"]))
    clamped_then_restored = 0
    for subscription_id, periods in starts.items():
        anchor_day = _instant(subscriptions[subscription_id]["started_at"]).day
        ordered = sorted(periods)
        for before, after in itertools.pairwise(ordered):
            if before.day < anchor_day and after.day == anchor_day:
                clamped_then_restored += 1
    assert clamped_then_restored > 0


def test_corrections_void_events_that_were_never_invoiced_as_prorations(sample):
    directory, manifest = sample
    events = {row["event_id"]: row for row in _good_rows(directory, manifest, "seat_events")}
    voided = {
        row["corrects_event_id"] for row in events.values() if row["event_type"] == "correction"
    }
    assert voided and voided <= set(events)
    assert all(events[event_id]["event_type"] != "correction" for event_id in voided)
    prorated = {
        line["source_event_id"]
        for line in _rows(directory, "invoice_lines")
        if line["source_event_id"]
    }
    assert not voided & prorated
    assert any(_instant(r["recorded_at"]) > _instant(r["effective_at"]) for r in events.values()), (
        "back-dated"
    )


def test_usage_files_are_time_ordered_and_carry_late_and_repeated_events(sample):
    directory, _ = sample
    late = repeated = 0
    seen: set[str] = set()
    for path in sorted(directory.glob("usage_events__????-??.csv")):
        month = path.stem.split("__")[1]
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        times = [row["occurred_at"] for row in rows]
        assert times == sorted(times), path.name
        late += sum(1 for row in rows if row["occurred_at"][:7] < month)
        for row in rows:
            repeated += row["event_id"] in seen
            seen.add(row["event_id"])
    assert late > 0
    assert repeated > 0


def test_the_automating_segment_hands_work_to_agents_while_others_do_not(formats, sample):
    connection = duckdb.connect()
    for directory, manifest in (sample, formats["csv"]):
        months = manifest["parameters"]["months"]
        share = dict(
            connection.execute(
                f"""
                with usage as (
                    select account_id, actor_type, tasks::bigint as tasks,
                        date_diff('month', date '{manifest["parameters"]["start"]}-01',
                            left(occurred_at, 10)::date) as month_index
                    from read_csv(
                        '{directory.as_posix()}/usage_events__????-??.csv', all_varchar = true
                    )
                ),
                accounts as (
                    select distinct account_id, segment
                    from read_csv('{directory.as_posix()}/accounts__crm.csv', all_varchar = true)
                )
                select accounts.segment || case when month_index < 3 then ':first' else ':last' end,
                    sum(case when actor_type = 'agent' then tasks else 0 end) / sum(tasks)
                from usage join accounts using (account_id)
                where month_index < 3 or month_index >= {months - 3}
                group by all
                """
            ).fetchall()
        )
        assert share["mid_market:first"] < 0.3
        assert share["mid_market:last"] > 0.5
        assert share["mid_market:last"] - share["mid_market:first"] > 0.25
        assert share["smb:last"] < 0.2


def test_every_listed_bad_row_is_in_its_file_and_breaks_its_rule(sample):
    directory, manifest = sample
    assert len({row["rule"] for row in manifest["bad_rows"]}) >= 30
    for bad in manifest["bad_rows"]:
        export = EXPORTS[bad["export"]]
        rows = [row for row in _rows(directory, export.name) if row["_file"] == bad["file"]]
        row = rows[bad["row_number"] - 1]
        kind, _, column = bad["rule"].partition(":")
        value = row.get(column, "")
        if kind == "required":
            assert value == "", bad
        elif kind == "allowed_values":
            assert value not in export.column(column).allowed, bad
        elif kind == "minimum":
            assert Decimal(value) <= 0, bad
        elif kind == "timestamp_without_offset":
            assert value and not value.endswith("Z"), bad
        elif kind == "too_many_decimals":
            assert len(value.split(".")[1]) > 4, bad
        elif kind == "type":
            assert not re.fullmatch(r"-?[\d.]+|\d{4}-.*Z", value), bad
        elif kind == "pattern":
            assert not re.fullmatch(export.column(column).pattern, value), bad
        elif kind == "implausible_time":
            # A time column before 2000 or in a year no refresh has reached.
            times = [row[name] for name in IMPLAUSIBLE_TIME.columns_of(export) if row[name]]
            assert any(time < "2000" or time >= "2090" for time in times), bad


def test_seatshift_generate_says_each_stage_as_it_starts(generated_company):
    """Progress on stderr (the summary stays on stdout): a line as each stage starts, with the
    seconds since the command began, and one per usage file written."""
    lines = generated_company["generate_stderr"].splitlines()
    assert lines and all(line.startswith("[") and " s] " in line for line in lines), lines
    stages = [line.split("] ", 1)[1] for line in lines]
    assert stages[0].startswith("generating the demo company's exports into")
    assert stages[1] == "planning 150 accounts, their subscriptions and invoices over 12 months"
    assert stages[2].startswith("generating usage events (")
    usage_files = [stage for stage in stages if stage.startswith("writing usage_events__")]
    assert len(usage_files) == 12 and usage_files[-1].endswith("(12 of 12)")
    assert stages[-1].startswith("writing ") and "files of the other exports" in stages[-1]
    assert generated_company["generate_stdout"].startswith("wrote ")


def test_the_sample_pilots_the_hybrid_model_in_mid_market_against_a_control_cohort(sample):
    directory, manifest = sample
    rows = _rows(directory, "price_model_assignments")
    accounts = _latest(_rows(directory, "accounts"), "account_id")
    subscriptions = {
        row["account_id"]: row for row in _good_rows(directory, manifest, "subscriptions")
    }
    plans = {row["plan_id"]: row for row in _rows(directory, "plans")}

    cohorts = defaultdict(list)
    for row in rows:
        cohorts[row["cohort"]].append(row)
        # The proposal the mid-market trigger passes on the demo; the control stays on the
        # current model.
        expected_model = {"pilot": "hybrid_seat_plus_tokens", "control": "current_per_seat"}
        assert row["price_model_id"] == expected_model[row["cohort"]], row
        assert accounts[row["account_id"]]["segment"] == "mid_market", row
        assert row["effective_to"] == ""
        # The sample runs 2025-01..2026-02 (14 months): 4 months before 2026-02 is 2025-10.
        switch = _instant(row["effective_from"])
        assert switch.strftime("%Y-%m") == "2025-10", row
        # Scheduled two weeks ahead of the switch.
        assert (switch - _instant(row["updated_at"])).days == 14
        # The switch falls on the subscription's renewal: the anchor's day and time, clamped.
        subscription = subscriptions[row["account_id"]]
        assert plans[subscription["plan_id"]]["billing_interval"] == "month"
        anchor = _instant(subscription["started_at"])
        last_day = calendar.monthrange(switch.year, switch.month)[1]
        assert switch == anchor.replace(
            year=switch.year, month=switch.month, day=min(anchor.day, last_day)
        )
        # Six months billed before the switch (from 2025-04 on at the latest).
        assert anchor < datetime(2025, 4, 1), row
    assert len(cohorts["pilot"]) == len(cohorts["control"]) >= 1
    assert set(cohorts) == {"pilot", "control"}
    assert len({row["account_id"] for row in rows}) == len(rows)  # one assignment an account
    story = manifest["story"]["pilot"]
    assert story["pilot_accounts"] == sorted(row["account_id"] for row in cohorts["pilot"])
    assert story["control_accounts"] == sorted(row["account_id"] for row in cohorts["control"])


def test_the_pilot_is_seeded_and_switching_it_off_changes_no_other_file(tmp_path):
    # 12 months from 2025-03: the switch is 2025-10 (4 months before 2026-02), after 7 months.
    parameters = {"accounts": 30, "months": 12, "start": "2025-03", "usage_per_seat_day": 0.05}
    with_pilot = _digests_generated(tmp_path / "on", parameters)
    again = _digests_generated(tmp_path / "again", parameters)
    other_seed = _digests_generated(tmp_path / "seed", parameters | {"seed": 8})
    without = _digests_generated(tmp_path / "off", parameters | {"pilot": False})

    assert with_pilot == again
    name = "price_model_assignments__billing.csv"
    assert with_pilot[name] != other_seed[name]
    assert name not in without
    # A pilot account is billed under the proposal from its switch: its invoices, their lines and
    # the tickets that follow a bill change; every other file is the company without the pilot.
    billed = ("invoices__", "invoice_lines__", "support_tickets__")
    assert {
        key: value
        for key, value in with_pilot.items()
        if key not in (name, "_manifest.json") and not key.startswith(billed)
    } == {
        key: value
        for key, value in without.items()
        if key != "_manifest.json" and not key.startswith(billed)
    }
    piloted = set(
        json.loads((tmp_path / "on" / "_manifest.json").read_text(encoding="utf-8"))["story"][
            "pilot"
        ]["pilot_accounts"]
    )

    def others(folder: str, export: str, drop: str) -> list[tuple]:
        # row numbers move with the pilot's rows; ticket ids are numbered over all tickets
        return sorted(
            tuple(v for k, v in row.items() if k not in ("_row", drop))
            for row in _rows(tmp_path / folder, export)
            if row["account_id"] not in piloted
        )

    assert others("on", "invoices", "") == others("off", "invoices", "")
    assert others("on", "support_tickets", "ticket_id") == others(
        "off", "support_tickets", "ticket_id"
    )
    manifest = json.loads((tmp_path / "off" / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["story"]["pilot"] is None
    assert manifest["row_counts"]["price_model_assignments"] == 0


def _digests_generated(directory: Path, parameters: dict) -> dict[str, str]:
    generate(directory, **parameters)
    return _digests(directory)


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--accounts", "1"], "at least 2 accounts, not 1"),
        (["--months", "1"], "at least 2 months of history, not 1"),
        (["--start", "2024-13"], "YYYY-MM (2024-11), not '2024-13'"),
        (["--start", "nov"], "YYYY-MM (2024-11), not 'nov'"),
        (["--usage-per-seat-day", "-1"], "cannot be negative (-1.0)"),
        # three accounts over two months at no usage: no event by a person to read utilization
        # from (it ended in a traceback, and usage files were left behind)
        (
            ["--accounts", "3", "--months", "2", "--start", "2026-08", "--usage-per-seat-day", "0"],
            "makes no event by a person",
        ),
    ],
)
def test_seatshift_generate_refuses_what_no_company_is_made_of(tmp_path, capsys, arguments, reason):
    """A sentence, not a traceback, and nothing written."""
    from orchestration.cli import main

    out = tmp_path / "landing"
    assert main(["generate", "--out", str(out), *arguments]) == 2
    error = capsys.readouterr().err
    # the refusal is the last line (a refusal found while generating follows its progress)
    last = error.strip().splitlines()[-1]
    assert last.startswith("generate refused: ") and reason in last, error
    assert "Traceback" not in error and not out.exists()


def test_seatshift_generate_says_when_the_history_runs_past_this_month(capsys):
    """A refresh quarantines rows dated after now, and the generator writes whole months, so a
    history that reaches this month or later would load partly as a quarantine: generate says
    how many months, and which --start ends the history last month. (It used to suggest ending
    this month, whose remaining days then loaded as quarantined rows.)"""
    from datetime import UTC, datetime

    from orchestration.cli.generate import _warn_of_future_months

    now = datetime.now(UTC)
    _warn_of_future_months(f"{now.year + 1}-{now.month:02d}", 3)  # all three a year ahead
    note = capsys.readouterr().err
    assert note.startswith("note: 3 of the 3 months"), note
    index = now.year * 12 + now.month - 1 - 3  # this month less three: the last ends last month
    assert f"`--start {index // 12}-{index % 12 + 1:02d}` ends the history last month" in note
    _warn_of_future_months(f"{now.year}-{now.month:02d}", 1)  # this month, not over
    assert capsys.readouterr().err.startswith("note: 1 of the 1 months")
    previous = now.year * 12 + now.month - 1 - 1
    _warn_of_future_months(f"{previous // 12}-{previous % 12 + 1:02d}", 2)  # last month and this
    assert capsys.readouterr().err.startswith("note: 1 of the 2 months")
    _warn_of_future_months(f"{previous // 12}-{previous % 12 + 1:02d}", 1)  # last month: over
    _warn_of_future_months(f"{now.year - 2}-{now.month:02d}", 24)
    assert capsys.readouterr().err == ""
