"""Every rule of the contract is declared once and compiled twice: walk the declarations and
prove that each has a loader test that quarantines a row by it and an expectation that restates
it."""

from __future__ import annotations

import re

import duckdb
import pytest

from orchestration.lib import contract, expectations
from orchestration.lib.contract import rules
from tests.conftest import REPO_ROOT
from tests.orchestration import test_ingest, test_ingest_hostile, test_seat_replay
from tests.quality import test_expectations


def declared_rules() -> list[tuple[str, str]]:
    """(export, rule name) of every rule a stored row is judged by, from the contract."""
    return [(export, rule.name) for export in contract.EXPORTS for rule in rules.rules_of(export)]


def loader_tested() -> set[tuple[str, str]]:
    """(export, rule name) that a loader test quarantines a row by."""
    tested = {(case[0], case[3]) for case in test_ingest.VALUE_RULE_CASES}
    tested |= {(case[0], case[3]) for case in test_ingest.CROSS_ROW_CASES}
    tested |= {(case[0], "implausible_time") for case in test_ingest.PLAUSIBLE_TIME_CASES}
    # The seat balance has a module of its own, down to the generated company.
    if "test_on_a_generated_company_only_the_injected_event_is_blamed" in vars(test_seat_replay):
        tested.add(("seat_events", "seats_below_zero"))
    return tested


def gx_restated(export: str) -> set[str]:
    return {
        rule
        for expectation, critical in expectations.suite(export)
        if critical
        for rule in (expectation.meta or {}).get("contract_rules", [])
    }


@pytest.mark.parametrize(("export", "rule"), declared_rules())
def test_each_contract_rule_has_a_loader_test(export, rule):
    assert (export, rule) in loader_tested()


@pytest.mark.parametrize(("export", "rule"), declared_rules())
def test_each_contract_rule_is_restated_by_a_critical_expectation(export, rule):
    assert rule in gx_restated(export)


def test_each_cross_row_rule_has_an_expectation_test_with_a_row_that_breaks_it():
    # A bad batch per rule, named after it, fails validation with exactly one critical failure.
    cross_row = {rule.name for rule in rules.CROSS_ROW} | {rules.IMPLAUSIBLE_TIME.name}
    assert cross_row <= set(test_expectations.BAD_BATCHES)


def test_a_row_that_cannot_be_parsed_has_a_loader_test_and_a_reason_for_no_expectation():
    malformed = rules.MALFORMED_ROW
    assert malformed.not_an_expectation_because  # never stored, so GX cannot see it
    hostile = vars(test_ingest_hostile)
    assert "test_a_broken_jsonl_line_is_quarantined_and_the_good_lines_load" in hostile
    assert "test_a_ragged_row_of_a_gzip_csv_is_quarantined_and_the_rest_loads" in hostile
    assert (
        "test_a_csv_row_with_the_wrong_field_count_is_quarantined_and_later_rows_keep_their_number"
        in vars(test_ingest)
    )


def test_the_contract_declares_each_rule_name_once_per_export():
    names = declared_rules()
    assert len(names) == len(set(names))


def test_every_audit_table_is_defined_in_the_contract_only():
    # One definition of the audit schema: the loader and GX create their tables from it.
    assert set(contract.AUDIT_TABLES) == {
        "audit.load_report",
        "audit.quarantine",
        "audit.expectation_results",
        "audit.refresh_log",
        "audit.dbt_builds",
    }
    assert contract.AUDIT_TABLES["audit.expectation_results"] in expectations.RESULTS_DDL


def test_no_other_file_creates_an_audit_table():
    """No module spells out an audit table's DDL: publish, GX and the loader run the contract's
    AUDIT_DDL (orchestration/lib/contract/audit.py names its tables by constant)."""
    creators = [
        path.relative_to(REPO_ROOT)
        for path in sorted((REPO_ROOT / "orchestration").rglob("*.py"))
        if re.search(r"create table[^;]*\baudit\.", path.read_text(), re.IGNORECASE)
    ]
    assert creators == []


def test_the_seat_sign_is_data_from_the_contract_and_no_sql_retypes_it(sample_warehouse):
    """Staging joins the sign table every refresh writes from contract.SEAT_SIGN; no dbt model
    or macro spells out which event types add or remove seats."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        written = dict(
            conn.execute(f"select event_type, seat_sign from {contract.SEAT_SIGN_TABLE}").fetchall()
        )
    assert written == contract.SEAT_SIGN
    sign_words = re.compile(r"'seat_(added|removed|suspended|reactivated)'")
    retyped = [
        path.relative_to(REPO_ROOT)
        for folder in ("models", "macros")
        for path in sorted((REPO_ROOT / "dbt_project" / folder).rglob("*.sql"))
        if sign_words.search(path.read_text())
    ]
    assert retyped == []
