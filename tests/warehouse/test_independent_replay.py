"""The ledger, prorations and cohorts agree with an independent replay of the contract's
seat rule, event for event (tests/warehouse/_replay.py reads the loaded raw exports and
recomputes the contract's seat rule and the proration and cohort definitions in Python).
"""

from __future__ import annotations

from tests.warehouse._replay import compare_ledger

NO_DIFFERENCES = {
    "ledger_keys": [],
    "ledger": [],
    "seats_below_zero": [],
    "proration_keys": [],
    "prorations": [],
    "cohort_month": [],
    "cohort_keys": [],
    "cohorts": [],
}


def test_ledger_prorations_and_cohorts_of_the_sample_agree_with_the_replay(sample_warehouse):
    """Every seat event's voided status and billable seats after it, every proration line
    (period, seats, unit price, amount to the cent, currency) and every cohort cell."""
    differences = compare_ledger(sample_warehouse)
    events, lines, cells = differences.pop("checked")
    # the sample: 531 seat events (9 voided), 302 prorated changes, 102 cohort cells
    assert events > 500 and lines > 250 and cells > 80
    assert differences == NO_DIFFERENCES


def test_ledger_prorations_and_cohorts_of_a_generated_company_agree_with_the_replay(
    generated_warehouse,
):
    differences = compare_ledger(generated_warehouse)
    events, lines, cells = differences.pop("checked")
    assert events > 2_000 and lines > 1_000 and cells > 50
    assert differences == NO_DIFFERENCES
