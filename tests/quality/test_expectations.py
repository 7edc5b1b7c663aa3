"""The GX suites, run for real as SQL inside DuckDB files built with the contract's own DDL.

One module-scoped warehouse holds a valid batch of every export (refresh `valid`) and one small
bad batch per case, each under its own refresh id, so most tests are one `validate_export` call
(about 0.5 s) and the slow GX import is paid once.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine
from great_expectations.render.view import view as gx_view

from orchestration.lib import contract, expectations, loader, settings
from orchestration.lib.expectations import validation
from orchestration.lib.loader.files import write_price_book_models

T0 = datetime(2025, 1, 1, 9, 0)
T1 = datetime(2025, 2, 1, 9, 0)
T2026_03 = datetime(2026, 3, 1)

# Rows that meet every rule of the contract and every plausibility check.
VALID_ROWS: dict[str, list[dict]] = {
    "accounts": [
        {
            "account_id": "a1",
            "account_name": "Acme",
            "segment": "smb",
            "country": "DE",
            "currency": "EUR",
            "created_at": T0,
            "updated_at": T0,
        },
        # A later version of the same account: a snapshot export keeps both.
        {
            "account_id": "a1",
            "account_name": "Acme GmbH",
            "segment": "mid_market",
            "country": "DE",
            "currency": "EUR",
            "created_at": T0,
            "updated_at": T1,
        },
        {
            "account_id": "a2",
            "account_name": "Beta",
            "segment": "enterprise",
            "country": None,
            "currency": "USD",
            "created_at": T0,
            "updated_at": T0,
        },
    ],
    "plans": [
        {
            "plan_id": "team",
            "plan_name": "Team",
            "currency": "USD",
            "billing_interval": "month",
            "seat_unit_amount": Decimal("30"),
            "platform_fee_amount": None,
            "effective_from": date(2025, 1, 1),
        },
        {
            "plan_id": "team",
            "plan_name": "Team",
            "currency": "USD",
            "billing_interval": "month",
            "seat_unit_amount": Decimal("0"),
            "platform_fee_amount": Decimal("99"),
            "effective_from": date(2025, 6, 1),
        },
    ],
    "subscriptions": [
        {
            "subscription_id": "s1",
            "account_id": "a1",
            "plan_id": "team",
            "status": "active",
            "started_at": T0,
            "canceled_at": None,
            "updated_at": T0,
        },
        # No seats yet: the bad seat batch below removes one that was never added.
        {
            "subscription_id": "s9",
            "account_id": "a1",
            "plan_id": "team",
            "status": "active",
            "started_at": T1,
            "canceled_at": None,
            "updated_at": T1,
        },
    ],
    "seat_events": [
        {
            "event_id": "e1",
            "account_id": "a1",
            "subscription_id": "s1",
            "event_type": "seat_added",
            "quantity": 3,
            "seat_role": "member",
            "user_id": "u1",
            "effective_at": T0,
            "recorded_at": T0,
            "corrects_event_id": None,
            "source": "app",
        },
        {
            "event_id": "e2",
            "account_id": "a1",
            "subscription_id": "s1",
            "event_type": "correction",
            "quantity": 1,
            "seat_role": None,
            "user_id": None,
            "effective_at": T1,
            "recorded_at": T1,
            "corrects_event_id": "e1",
            "source": "admin",
        },
    ],
    "usage_events": [
        {
            "event_id": "u1",
            "account_id": "a1",
            "actor_type": "human",
            "user_id": "u1",
            "agent_id": None,
            "occurred_at": T0,
            "feature": "chat",
            "model": "small",
            "input_tokens": 1200,
            "output_tokens": 300,
            "tasks": 1,
            "outcome": "resolved",
        },
        {
            "event_id": "u2",
            "account_id": "a1",
            "actor_type": "agent",
            "user_id": None,
            "agent_id": "g1",
            "occurred_at": T0,
            "feature": "workflow",
            "model": "frontier",
            "input_tokens": 0,
            "output_tokens": 0,
            "tasks": 0,
            "outcome": None,
        },
    ],
    "invoices": [
        {
            "invoice_id": "i1",
            "account_id": "a1",
            "subscription_id": "s1",
            "currency": "EUR",
            "period_start": T0,
            "period_end": T1,
            "issued_at": T1,
            "status": "paid",
            "subtotal": Decimal("100"),
            "tax": Decimal("19"),
            "total": Decimal("119"),
            "updated_at": T1,
        },
        {
            "invoice_id": "i2",
            "account_id": "a1",
            "subscription_id": "s1",
            "currency": None,
            "period_start": T0,
            "period_end": T1,
            "issued_at": T1,
            "status": None,
            "subtotal": Decimal("80"),
            "tax": None,
            "total": Decimal("80"),
            "updated_at": T1,
        },
    ],
    "invoice_lines": [
        {
            "line_id": "l1",
            "invoice_id": "i1",
            "line_type": "subscription",
            "description": "Team seats",
            "quantity": Decimal("3"),
            "unit_amount": Decimal("30"),
            "amount": Decimal("90"),
            "period_start": T0,
            "period_end": T1,
            "source_event_id": None,
        },
        {
            "line_id": "l2",
            "invoice_id": "i1",
            "line_type": "credit",
            "description": "goodwill",
            "quantity": Decimal("-1"),
            "unit_amount": None,
            "amount": Decimal("-10"),
            "period_start": None,
            "period_end": None,
            "source_event_id": None,
        },
    ],
    # a1 under the current model from T0, then a newer version ends it at T1 to make room for
    # the pilot from T1: only the latest versions count, so the first version overlaps nothing.
    "price_model_assignments": [
        {
            "assignment_id": "pa1",
            "account_id": "a1",
            "price_model_id": "current_per_seat",
            "effective_from": T0,
            "effective_to": None,
            "cohort": None,
            "updated_at": T0,
        },
        {
            "assignment_id": "pa1",
            "account_id": "a1",
            "price_model_id": "current_per_seat",
            "effective_from": T0,
            "effective_to": T1,
            "cohort": None,
            "updated_at": T1,
        },
        {
            "assignment_id": "pa2",
            "account_id": "a1",
            "price_model_id": "hybrid_seat_plus_tokens",
            "effective_from": T1,
            "effective_to": None,
            "cohort": "pilot",
            "updated_at": T1,
        },
    ],
    "support_tickets": [
        {"ticket_id": "k1", "account_id": "a1", "created_at": T0, "category": "billing"},
    ],
    "fx_rates": [
        {"rate_date": date(2025, 1, 1), "currency": "EUR", "usd_per_unit": Decimal("1.08")},
        {"rate_date": date(2025, 1, 1), "currency": "JPY", "usd_per_unit": Decimal("0.0067")},
    ],
}


def _valid(export: str, index: int = 0, **changes) -> dict:
    return {**VALID_ROWS[export][index], **changes}


# refresh id -> (export, rows, the critical failure message expected, word for word)
BAD_BATCHES = {
    "null_required": (
        "usage_events",
        [_valid("usage_events", account_id=None), _valid("usage_events", 1, event_id="u9")],
        # 1 of the 2 rows lacks account_id.
        "telemetry.usage_events: account_id is not null failed for 1 of 2 rows",
    ),
    "out_of_set": (
        "usage_events",
        [_valid("usage_events", actor_type="robot")],
        "telemetry.usage_events: actor_type in (human, agent) failed for 1 of 1 rows (e.g. robot)",
    ),
    "negative_tokens": (
        "usage_events",
        [_valid("usage_events", input_tokens=-3)],
        "telemetry.usage_events: input_tokens >= 0 failed for 1 of 1 rows (e.g. -3)",
    ),
    "duplicate_key": (
        "usage_events",
        [_valid("usage_events"), _valid("usage_events", 1, event_id="u1")],
        # Both rows carry event_id u1: GX counts every row of a duplicated value.
        "telemetry.usage_events: event_id is unique failed for 2 of 2 rows (e.g. u1, u1)",
    ),
    "duplicate_snapshot_version": (
        "accounts",
        [_valid("accounts"), _valid("accounts", account_name="Acme again")],
        "crm.accounts: (account_id, updated_at) is unique failed for 2 of 2 rows",
    ),
    "duplicate_compound_key": (
        "plans",
        [_valid("plans"), _valid("plans", plan_name="Team (again)")],
        "billing.plans: (plan_id, effective_from) is unique failed for 2 of 2 rows",
    ),
    "bad_pattern": (
        "fx_rates",
        [_valid("fx_rates", currency="usd")],
        "treasury.fx_rates: currency matches ^[A-Z]{3}$ failed for 1 of 1 rows (e.g. usd)",
    ),
    "zero_rate": (
        "fx_rates",
        [_valid("fx_rates", usd_per_unit=Decimal("0"))],
        "treasury.fx_rates: usd_per_unit > 0 failed for 1 of 1 rows (e.g. 0E-8)",
    ),
    "period_end_not_after_start": (
        "invoices",
        [_valid("invoices", period_start=T1, period_end=T0)],
        "billing.invoices: period_end must be later than period_start failed for 1 of 1 rows",
    ),
    # The contract's rules between rows, compiled from the same declarations as the loader's.
    "unknown_account": (
        "usage_events",
        [_valid("usage_events", event_id="u9", account_id="zz")],
        "telemetry.usage_events: account_id must exist in accounts failed for 1 of 1 rows",
    ),
    "unknown_plan": (
        "subscriptions",
        [_valid("subscriptions", subscription_id="s8", plan_id="gold")],
        "billing.subscriptions: plan_id must exist in plans failed for 1 of 1 rows",
    ),
    "unknown_subscription": (
        "seat_events",
        [_valid("seat_events", event_id="e8", subscription_id="sz")],
        "entitlements.seat_events: subscription_id must exist in subscriptions failed for 1 of 1",
    ),
    "subscription_of_other_account": (
        "seat_events",
        [_valid("seat_events", event_id="e7", account_id="a2")],
        "entitlements.seat_events: the subscription must belong to the row's account failed",
    ),
    "corrects_event_id_required": (
        "seat_events",
        [_valid("seat_events", 1, event_id="c8", corrects_event_id=None)],
        "entitlements.seat_events: a correction names the event it voids failed for 1 of 1 rows",
    ),
    "corrects_event_id_not_allowed": (
        "seat_events",
        [_valid("seat_events", event_id="e6", corrects_event_id="e1")],
        "entitlements.seat_events: only a correction names corrects_event_id failed",
    ),
    "corrected_event_unknown": (
        "seat_events",
        [_valid("seat_events", 1, event_id="c7", corrects_event_id="nowhere")],
        "entitlements.seat_events: a correction must name an earlier event of the same"
        " subscription failed",
    ),
    "correction_of_correction": (
        "seat_events",
        [_valid("seat_events", 1, event_id="c6", corrects_event_id="e2")],
        "entitlements.seat_events: a correction of a correction is rejected failed",
    ),
    "seats_below_zero": (
        "seat_events",
        # s9 has no seats: removing one takes it to -1.
        [
            _valid(
                "seat_events",
                event_id="e5",
                subscription_id="s9",
                event_type="seat_removed",
                quantity=1,
            )
        ],
        "entitlements.seat_events: the event would take the subscription's billable seats below"
        " zero failed for 1 of 1 rows",
    ),
    "user_id_required_for_human": (
        "usage_events",
        [_valid("usage_events", event_id="u8", user_id=None)],
        "telemetry.usage_events: a human usage event names its user_id failed for 1 of 1 rows",
    ),
    "agent_id_required_for_agent": (
        "usage_events",
        [_valid("usage_events", 1, event_id="u7", user_id="u1")],
        "telemetry.usage_events: an agent usage event names its agent_id and no user_id failed",
    ),
    "currency_differs_from_account": (
        "invoices",
        [_valid("invoices", invoice_id="i7", currency="USD")],
        "billing.invoices: an invoice's currency must equal its account's currency failed",
    ),
    "unknown_invoice": (
        "invoice_lines",
        [_valid("invoice_lines", line_id="l7", invoice_id="iz")],
        "billing.invoice_lines: invoice_id must exist in invoices failed for 1 of 1 rows",
    ),
    # The assignment batches are of account a2, each in its own years, so none overlaps another.
    "unknown_price_model": (
        "price_model_assignments",
        [
            _valid(
                "price_model_assignments",
                2,
                assignment_id="pa7",
                account_id="a2",
                price_model_id="gold",
                effective_from=datetime(2022, 1, 1),
                effective_to=datetime(2022, 2, 1),
            )
        ],
        "billing.price_model_assignments: price_model_id must exist in the price book's models"
        " failed for 1 of 1 rows",
    ),
    "effective_to_not_after_from": (
        "price_model_assignments",
        [
            _valid(
                "price_model_assignments",
                2,
                assignment_id="pa8",
                account_id="a2",
                effective_from=datetime(2021, 2, 1),
                effective_to=datetime(2021, 1, 1),
            )
        ],
        "billing.price_model_assignments: effective_to, when given, must be later than"
        " effective_from failed for 1 of 1 rows",
    ),
    # Two assignments of a2 both from 2026 on: both rows are shown.
    "overlapping_assignment": (
        "price_model_assignments",
        [
            _valid(
                "price_model_assignments",
                2,
                assignment_id=assignment_id,
                account_id="a2",
                effective_from=starts,
            )
            for assignment_id, starts in (("pa5", datetime(2026, 1, 1)), ("pa6", T2026_03))
        ],
        "billing.price_model_assignments: the assignment's period overlaps an earlier-starting"
        " (or already loaded) assignment of the same account failed for 2 of 2 rows",
    ),
    "implausible_time": (
        "usage_events",
        [_valid("usage_events", event_id="u6", occurred_at=datetime(2099, 2, 10, 10))],
        "telemetry.usage_events: occurred_at is a plausible time failed for 1 of 1 rows"
        " (e.g. 2099-02-10 10:00:00)",
    ),
    "implausible_date": (
        "fx_rates",
        [_valid("fx_rates", currency="CHF", rate_date=date(1999, 12, 31))],
        "treasury.fx_rates: rate_date is a plausible time failed for 1 of 1 rows",
    ),
}

# Plausibility failures: reported, never blocking.
SUSPICIOUS_BATCHES = {
    "huge_output": (
        "usage_events",
        [_valid("usage_events", output_tokens=20_000_000)],
        "telemetry.usage_events: output_tokens < 10,000,000 per event failed for 1 of 1 rows",
    ),
    "total_mismatch": (
        "invoices",
        [_valid("invoices", total=Decimal("120"))],
        "billing.invoices: total = subtotal + tax failed for 1 of 1 rows",
    ),
}


def _insert(conn: duckdb.DuckDBPyConnection, export: str, rows: list[dict], refresh_id: str):
    spec = contract.EXPORTS[export]
    columns = [*spec.column_names, "_refresh_id", "_file_name", "_row_number", "_loaded_at"]
    placeholders = ", ".join("?" for _ in columns)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    conn.executemany(
        f"insert into {spec.relation} ({', '.join(columns)}) values ({placeholders})",
        [
            [row[name] for name in spec.column_names]
            + [refresh_id, f"{export}__{refresh_id}.csv", number, loaded_at]
            for number, row in enumerate(rows, start=1)
        ],
    )


def _create_raw_tables(database: Path) -> None:
    with duckdb.connect(str(database)) as conn:
        for spec in contract.EXPORTS.values():
            conn.execute(f"create schema if not exists {spec.schema}")
            conn.execute(contract.raw_table_ddl(spec))
        # What the assignments' model rule looks up, as every load writes it.
        write_price_book_models(conn)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    database = tmp_path_factory.mktemp("gx") / "raw.duckdb"
    _create_raw_tables(database)
    with duckdb.connect(str(database)) as conn:
        for export, rows in VALID_ROWS.items():
            _insert(conn, export, rows, "valid")
        for refresh_id, (export, rows, _) in (BAD_BATCHES | SUSPICIOUS_BATCHES).items():
            _insert(conn, export, rows, refresh_id)
    return database


@pytest.mark.parametrize("export", list(contract.EXPORTS))
def test_each_export_suite_passes_on_valid_rows(warehouse, export):
    outcome = expectations.validate_export(warehouse, export, refresh_id="valid")

    assert outcome.success, outcome.critical_failures
    assert outcome.warnings == []
    assert all(result["success"] for result in outcome.results)
    assert {result["element_count"] for result in outcome.results} == {len(VALID_ROWS[export])}


@pytest.mark.parametrize("refresh_id", list(BAD_BATCHES))
def test_a_row_that_bypassed_the_loader_fails_validation_with_a_readable_reason(
    warehouse, refresh_id
):
    export, _, expected_failure = BAD_BATCHES[refresh_id]

    outcome = expectations.validate_export(warehouse, export, refresh_id=refresh_id)

    assert not outcome.success
    assert len(outcome.critical_failures) == 1
    assert outcome.critical_failures[0].startswith(expected_failure)


@pytest.mark.parametrize("refresh_id", list(SUSPICIOUS_BATCHES))
def test_a_failed_plausibility_check_is_a_warning_that_does_not_block(warehouse, refresh_id):
    export, _, expected_warning = SUSPICIOUS_BATCHES[refresh_id]

    outcome = expectations.validate_export(warehouse, export, refresh_id=refresh_id)

    assert outcome.success
    assert outcome.critical_failures == []
    assert [w.startswith(expected_warning) for w in outcome.warnings] == [True]
    failed = [result for result in outcome.results if not result["success"]]
    assert [result["is_critical"] for result in failed] == [False]


def test_validation_sees_only_the_rows_of_the_given_refresh(warehouse):
    whole_table = expectations.validate_export(warehouse, "usage_events")
    this_refresh = expectations.validate_export(warehouse, "usage_events", refresh_id="valid")

    assert not whole_table.success  # the bad batches are in the table
    assert this_refresh.success
    # usage_events rows: 2 valid + 2 + 1 + 1 + 2 bad + 4 bad between rows + 1 suspicious = 13.
    assert whole_table.results[0]["element_count"] == 13
    assert this_refresh.results[0]["element_count"] == 2


def test_a_refresh_that_loaded_every_row_validates_the_table_itself_with_the_same_outcome(
    tmp_path, monkeypatch
):
    """A first or full load: the batch query drops its refresh filter (DuckDB plans the reference
    rules far faster over the bare table) and still finds what the filtered batch finds."""
    refresh_id = next(iter(BAD_BATCHES))
    export, rows, expected_failure = BAD_BATCHES[refresh_id]
    database = tmp_path / "one_refresh.duckdb"
    _create_raw_tables(database)
    with duckdb.connect(str(database)) as conn:
        _insert(conn, export, rows, refresh_id)
    spec = contract.EXPORTS[export]
    assert (
        validation._batch_refresh_id(
            validation._table_state(database, spec, refresh_id), refresh_id
        )
        is None
    )
    assert (
        validation._batch_refresh_id(validation._table_state(database, spec, "another"), "another")
        == "another"
    )
    assert validation._batch_refresh_id(validation._table_state(database, spec, None), None) is None

    whole = expectations.validate_export(database, export, refresh_id=refresh_id)
    monkeypatch.setattr(validation, "_batch_refresh_id", lambda state, given: given)
    filtered = expectations.validate_export(database, export, refresh_id=refresh_id)

    assert not whole.success
    assert any(f.startswith(expected_failure) for f in whole.critical_failures)
    assert whole.critical_failures == filtered.critical_failures
    assert whole.warnings == filtered.warnings
    drop = {"validated_at"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in whole.results] == [
        {k: v for k, v in r.items() if k not in drop} for r in filtered.results
    ]
    assert {result["element_count"] for result in whole.results} == {len(rows)}


def test_a_refresh_beside_others_is_still_validated_alone(warehouse):
    spec = contract.EXPORTS["usage_events"]
    state = validation._table_state(warehouse, spec, "valid")

    assert validation._batch_refresh_id(state, "valid") == "valid"
    assert (state.rows, state.rows_of_refresh) == (13, 2)  # as counted in the test above


def test_an_empty_batch_passes(warehouse):
    # The quote checks that the refresh id reaches SQL as a literal, not as SQL.
    outcome = expectations.validate_export(warehouse, "usage_events", refresh_id="no rows' yet")

    assert outcome.success
    assert outcome.results
    assert all(result["success"] for result in outcome.results)
    assert {(r["element_count"], r["unexpected_count"]) for r in outcome.results} == {(0, 0)}


@pytest.mark.parametrize("export", list(contract.EXPORTS))
def test_a_batch_of_no_rows_skips_gx_with_the_outcome_gx_gives(warehouse, export, monkeypatch):
    """A refresh that loaded nothing of an export records the outcome GX gives on no rows
    (every rule passes: none reads beyond the batch's rows) without starting GX."""
    refresh_id = "loaded nothing"
    monkeypatch.setattr(validation._TableState, "batch_rows", lambda self, given: None)
    by_gx = expectations.validate_export(warehouse, export, refresh_id=refresh_id)
    monkeypatch.undo()

    def no_gx(*args, **kwargs):
        raise AssertionError("GX started for a batch of no rows")

    monkeypatch.setattr(validation.gx, "get_context", no_gx)
    without_gx = expectations.validate_export(warehouse, export, refresh_id=refresh_id)

    def rows(outcome):  # GX lists results in an order of its own; the pages sort them
        return sorted(
            json.dumps({k: v for k, v in r.items() if k != "validated_at"}, sort_keys=True)
            for r in outcome.results
        )

    assert by_gx.results, "GX ran the suite"
    assert rows(without_gx) == rows(by_gx)
    assert (without_gx.success, without_gx.critical_failures, without_gx.warnings) == (
        by_gx.success,
        by_gx.critical_failures,
        by_gx.warnings,
    )


def test_record_outcome_writes_one_row_per_expectation(warehouse, tmp_path):
    outcome = expectations.validate_export(warehouse, "usage_events", refresh_id="negative_tokens")
    audit = tmp_path / "warehouse.duckdb"

    with duckdb.connect(str(audit)) as conn:
        expectations.record_outcome(conn, outcome)
        expectations.record_outcome(conn, outcome)  # appends; the table already exists
        rows = conn.sql(
            """select refresh_id, export, relation, expectation_type, column_name, is_critical,
                      success, element_count, unexpected_count, unexpected_examples, details,
                      validated_at
               from audit.expectation_results
               where not success"""
        ).fetchall()
        total = conn.sql("select count(*) from audit.expectation_results").fetchall()[0][0]

    assert total == 2 * len(outcome.results)
    assert len(rows) == 2
    (
        refresh_id,
        export,
        relation,
        kind,
        column,
        critical,
        success,
        elements,
        failed,
        examples,
        details,
        at,
    ) = rows[0]
    assert (refresh_id, export, relation) == (
        "negative_tokens",
        "usage_events",
        "telemetry.usage_events",
    )
    assert (kind, column, critical, success) == (
        "expect_column_values_to_be_between",
        "input_tokens",
        True,
        False,
    )
    assert (elements, failed) == (1, 1)
    assert json.loads(examples) == [-3]
    assert json.loads(details)["kwargs"] == {"column": "input_tokens", "min_value": 0.0}
    assert at == outcome.validated_at


def test_data_docs_index_is_written_for_a_person_to_open(warehouse, tmp_path):
    docs = tmp_path / "data_docs"

    outcome = expectations.validate_export(warehouse, "fx_rates", "bad_pattern", docs_dir=docs)
    expectations.validate_export(warehouse, "plans", "valid", docs_dir=docs)

    assert outcome.docs_index == docs / "fx_rates" / "index.html"
    assert outcome.docs_index.is_file()  # GX's own site for the export
    index = (docs / "index.html").read_text()
    assert "treasury.fx_rates" in index and "billing.plans" in index
    assert "FAILED" in index and "currency matches" in index


def test_data_docs_pages_reuse_the_compiled_templates_and_read_the_same(warehouse, tmp_path):
    # If this fails after a GX upgrade, revisit let_gx_reuse_compiled_templates().
    expectations.COMPILED_TEMPLATES.clear()  # the first page compiles its templates
    first = expectations.validate_export(warehouse, "plans", "valid", docs_dir=tmp_path / "a")
    kept, compiled = len(expectations.COMPILED_TEMPLATES), expectations.COMPILED_TEMPLATES.compiled
    assert kept > 0  # the first pages' templates, kept
    assert gx_view.DefaultJinjaView().env.bytecode_cache is expectations.COMPILED_TEMPLATES
    again = expectations.validate_export(warehouse, "plans", "valid", docs_dir=tmp_path / "b")
    # the second validation's pages compiled nothing: every template came from the cache
    assert expectations.COMPILED_TEMPLATES.compiled == compiled
    assert len(expectations.COMPILED_TEMPLATES) == kept

    # The same validation's page from cached code as from freshly compiled code, but for the
    # time GX stamps on it and the run's identifiers.
    def page(outcome) -> str:
        text = outcome.docs_index.read_text()
        return re.sub(
            r"\d{8}T\d{6}\.\d+Z|\d{10}\.\d+|[0-9a-f]{32}|\d{4}-\d{2}-\d{2}[ T][\d:.]+", "", text
        )

    assert page(first) == page(again)


def test_validation_releases_the_warehouse_file(warehouse):
    expectations.validate_export(warehouse, "accounts", refresh_id="valid")

    # DuckDB refuses a read-only connection while any other connection to the file is open.
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.sql("select count(*) from crm.accounts").fetchall()[0][0] > 0


def test_gx_private_duckdb_patch_still_applies_and_detects_bad_rows_through_sql(warehouse):
    # If this fails after a GX upgrade, revisit let_gx_keep_one_duckdb_connection().
    expectations.let_gx_keep_one_duckdb_connection()
    dialects = sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS

    assert isinstance(dialects, tuple)
    assert "sqlite" in dialects  # the list still names GX's own persisted dialects
    assert "duckdb" in dialects
    assert sqlalchemy_execution_engine._dialect_requires_persisted_connection(
        connection_string="duckdb:///x.duckdb"
    )
    outcome = expectations.validate_export(warehouse, "usage_events", refresh_id="out_of_set")
    errors = [json.loads(r["details"]).get("error") for r in outcome.results]
    assert errors == [None] * len(outcome.results)  # e.g. no "list index out of range"
    failed = [r for r in outcome.results if not r["success"]]
    assert [(r["column_name"], r["unexpected_count"]) for r in failed] == [("actor_type", 1)]


def test_a_missing_table_fails_unless_the_export_is_optional(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    required = expectations.validate_export(empty, "usage_events")
    optional = expectations.validate_export(empty, "fx_rates")

    assert not required.success
    assert required.critical_failures == ["telemetry.usage_events: table does not exist"]
    assert optional.success and optional.results == []


def test_a_raw_table_without_a_contract_column_is_named_instead_of_validated(tmp_path):
    drifted = tmp_path / "drifted.duckdb"
    _create_raw_tables(drifted)
    with duckdb.connect(str(drifted)) as conn:
        conn.execute("alter table billing.invoices drop column tax")

    outcome = expectations.validate_export(drifted, "invoices")

    assert not outcome.success
    assert outcome.critical_failures == ["billing.invoices: raw table lacks contract columns tax"]


def test_suite_restates_every_contract_rule_as_a_critical_expectation():
    for export, spec in contract.EXPORTS.items():
        rules = {
            expectation.meta["rule"]: critical
            for expectation, critical in expectations.suite(export)
        }
        for column in spec.columns:
            if column.required:
                assert rules[f"{column.name} is not null"] is True
            if column.allowed:
                assert rules[f"{column.name} in ({', '.join(column.allowed)})"] is True
            if column.minimum is not None:
                assert rules[f"{column.name} >= {column.minimum:g}"] is True
            if column.exclusive_minimum is not None:
                assert rules[f"{column.name} > {column.exclusive_minimum:g}"] is True
            if column.pattern:
                assert rules[f"{column.name} matches {column.pattern}"] is True
        key = [*spec.key, *([spec.latest_wins_by] if spec.latest_wins_by else [])]
        key_rule = f"{key[0]} is unique" if len(key) == 1 else f"({', '.join(key)}) is unique"
        assert rules[key_rule] is True


def test_suite_returns_fresh_expectations_on_every_call():
    first = [expectation for expectation, _ in expectations.suite("usage_events")]
    second = [expectation for expectation, _ in expectations.suite("usage_events")]

    assert all(a is not b for a, b in zip(first, second, strict=True))


def test_an_unknown_export_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown export 'usage'"):
        expectations.suite("usage")


def test_rows_the_loader_accepted_from_the_sample_pass_every_expectation(tmp_path):
    # The sample holds rule breakers that the loader quarantines; GX must agree with what it kept.
    database = tmp_path / "loaded.duckdb"
    with duckdb.connect(str(database)) as conn:
        for export in contract.LOAD_ORDER:
            loader.load_export(conn, settings.SEEDS_DIR, export, "sample")

    outcomes = [expectations.validate_export(database, e, "sample") for e in contract.EXPORTS]

    assert [failure for o in outcomes for failure in o.critical_failures] == []
    assert [warning for o in outcomes for warning in o.warnings] == []
    assert all(o.results[0]["element_count"] > 0 for o in outcomes)


def test_a_raw_column_of_another_type_than_the_contracts_fails_the_storage_expectation(tmp_path):
    drifted = tmp_path / "retyped.duckdb"
    _create_raw_tables(drifted)
    with duckdb.connect(str(drifted)) as conn:
        conn.execute("alter table telemetry.usage_events alter input_tokens type varchar")
        _insert(conn, "usage_events", VALID_ROWS["usage_events"], "valid")

    outcome = expectations.validate_export(drifted, "usage_events", refresh_id="valid")

    storage = [
        result
        for result in outcome.results
        if result["rule"] == "raw columns have the contract's types"
    ]
    assert [(r["success"], r["unexpected_count"]) for r in storage] == [(False, 1)]
    assert json.loads(storage[0]["unexpected_examples"]) == [
        {"column_name": "input_tokens", "data_type": "VARCHAR"}
    ]
    assert not outcome.success
