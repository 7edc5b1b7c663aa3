"""Rating follows the assignment, on the committed sample: a pilot account is billed under the
hybrid from its switch, its monthly invoices reconcile to the cent against the hybrid's shadow
lines (prorated in the switch month), its MRR is what the hybrid charges it, and every figure of an
account never assigned is the one a build without the assignments export gives."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

from tests.conftest import SEEDS_DIR, copy_seeds, run_refresh, shared_by_workers

ASSIGNMENTS_FILE = "price_model_assignments__billing.csv"
# Per-account marts whose rows depend on the account alone (segment-wide figures such as NRR or
# the migration trigger move with the pilot accounts' MRR, as they should).
PER_ACCOUNT_MARTS = (
    "fct_account_month",
    "fct_invoice_reconciliation",
    "fct_invoice_checks",
    "fct_invoice_line_evidence",
    "fct_shadow_invoice",
    "fct_shadow_invoice_lines",
    "fct_rating_quantities",
)


def _assignments() -> list[dict[str, str]]:
    with (SEEDS_DIR / ASSIGNMENTS_FILE).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _pilots() -> dict[str, str]:
    return {
        row["account_id"]: row["effective_from"]
        for row in _assignments()
        if row["price_model_id"] != "current_per_seat"
    }


@pytest.fixture(scope="module")
def warehouse(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def without_export(tmp_path_factory) -> str:
    """The same landing folder without the assignments export, refreshed on its own."""

    def build(folder):
        landing = copy_seeds(folder / "landing")
        (landing / ASSIGNMENTS_FILE).unlink()
        run = run_refresh(landing, folder / "seatshift.duckdb")
        assert run.returncode == 0, run.stdout + run.stderr
        return {"warehouse": str(run.warehouse)}

    return shared_by_workers(tmp_path_factory, "sample-without-assignments", build)["warehouse"]


def test_the_switch_month_invoice_is_the_hybrid_prorated_to_the_second(warehouse):
    # acc_00008 switches at its renewal, 2025-10-20 14:12:24: Oct 20 14:12:24 -> Oct 21 is
    # 35,256 s and Oct 21 -> Nov 1 is 11 x 86,400 = 950,400 s: 985,656 of October's
    # 31 x 86,400 = 2,678,400 s. The platform fee is 99 x 985,656 / 2,678,400 = 36.4322 -> 36.43.
    # With 16 seats at the month's end: 16 x 119 = 1,904 x 985,656 / 2,678,400 = 700.6754 ->
    # 700.68.
    assert _pilots()["acc_00008"] == "2025-10-20T14:12:24Z"
    rows = warehouse.execute(
        """select component_id, expected_quantity, expected_amount, invoiced_amount, is_match
        from marts.fct_invoice_reconciliation
        where account_id = 'acc_00008' and line_kind = 'assigned_model'
            and period_start = '2025-10-20 14:12:24'
        order by component_id"""
    ).fetchall()
    by_component = {row[0]: row[1:] for row in rows}
    assert set(by_component) == {"platform", "seats", "tokens"}
    assert by_component["platform"][1:] == (Decimal("36.43"), Decimal("36.43"), True)
    assert by_component["seats"][0] == 16
    assert by_component["seats"][1:] == (Decimal("700.68"), Decimal("700.68"), True)
    # The evidence packet of those lines names the model, the component and the part of October.
    evidence = warehouse.execute(
        """select distinct price_model_id, strftime(period_start, '%Y-%m-%d %H:%M:%S'),
            strftime(period_end, '%Y-%m-%d')
        from marts.fct_invoice_line_evidence
        where account_id = 'acc_00008' and line_kind = 'assigned_model'
            and invoice_id = 'inv_00008_m202510'"""
    ).fetchall()
    assert evidence == [("hybrid_seat_plus_tokens", "2025-10-20 14:12:24", "2025-11-01")]
    # No seat invoice is expected for the seat period starting at the switch.
    seat_lines = warehouse.execute(
        """select count(*) from marts.fct_invoice_reconciliation
        where account_id = 'acc_00008' and line_kind in ('seats', 'platform_fee')
            and period_start >= '2025-10-20 14:12:24'"""
    ).fetchall()[0][0]
    assert seat_lines == 0


def test_every_line_of_the_pilots_after_the_switch_reconciles_to_the_cent(warehouse):
    pilots = _pilots()
    rows = warehouse.execute(
        """select account_id, line_kind, component_id, is_match, mismatch_reason,
            expected_amount, invoiced_amount, period_start, price_model_id
        from marts.fct_invoice_reconciliation
        where is_judged and account_id in (select unnest(?))""",
        [sorted(pilots)],
    ).fetchall()
    after = [row for row in rows if row[8] == "hybrid_seat_plus_tokens"]
    # 2 pilots x (October, November, December, January) x 3 components, and the prorations of
    # the seat period ending at the switch (acc_00015's three) on the October invoices.
    assert sum(1 for row in after if row[1] == "assigned_model") == 2 * 4 * 3
    assert sum(1 for row in after if row[1] == "proration") == 3
    assert [row for row in after if not row[3]] == []
    # before the switch, per seat, only the injected billing errors miss
    manifest = json.loads((SEEDS_DIR / "_manifest.json").read_text(encoding="utf-8"))
    injected = {error["invoice_id"] for error in manifest["billing_errors"]}
    before = warehouse.execute(
        """select invoice_id from marts.fct_invoice_reconciliation
        where is_judged and not is_match and account_id in (select unnest(?))""",
        [sorted(pilots)],
    ).fetchall()
    assert {row[0] for row in before} <= injected


def test_expected_lines_are_the_shadow_lines_times_the_share_of_the_month(warehouse):
    # independent of the SQL's integer rounding: Python's Decimal half-up of amount x share
    rows = warehouse.execute(
        """select periods.account_id, periods.month, lines.component_id, lines.amount_usd,
            periods.seconds_in_force, periods.seconds_in_month, expected.amount
        from intermediate.int_billing_periods_in_force as periods
        join marts.fct_shadow_invoice_lines as lines
            on periods.account_id = lines.account_id and periods.month = lines.month
                and periods.price_model_id = lines.price_model_id
        join intermediate.int_invoice_lines_expected as expected
            on expected.billing_period_id = periods.billing_period_id
                and expected.component_id = lines.component_id
        where periods.period_kind = 'assigned_month'"""
    ).fetchall()
    assert len(rows) == 2 * 4 * 3
    for _account, _month, _component, full, in_force, length, amount in rows:
        share = (Decimal(full) * in_force / length).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert amount == share


def test_the_pilots_mrr_after_the_switch_is_the_hybrids_charges_of_the_month(warehouse):
    rows = warehouse.execute(
        """select months.account_id, months.month, months.mrr_usd, shadow.shadow_usd,
            months.billable_seats
        from marts.fct_account_month as months
        join marts.fct_shadow_invoice as shadow
            on months.account_id = shadow.account_id and months.month = shadow.month
                and shadow.price_model_id = 'hybrid_seat_plus_tokens'
        where months.account_id in (select unnest(?)) and months.month >= '2025-10-01'""",
        [sorted(_pilots())],
    ).fetchall()
    assert len(rows) >= 2 * 4
    for account_id, month, mrr, shadow, seats in rows:
        assert seats > 0, (account_id, month)
        assert mrr == shadow, (account_id, month)


def test_accounts_never_assigned_are_unchanged_by_the_export(warehouse, without_export):
    assigned = sorted({row["account_id"] for row in _assignments()})
    connection = duckdb.connect(":memory:")
    try:
        for name, path in (("with_export", warehouse_path(warehouse)), ("without", without_export)):
            connection.execute(f"attach '{path}' as {name} (read_only)")
        for mart in PER_ACCOUNT_MARTS:
            for left, right in (("with_export", "without"), ("without", "with_export")):
                extra = connection.execute(
                    f"""select count(*) from (
                        select * from {left}.marts.{mart}
                        where account_id not in (select unnest(?))
                        except
                        select * from {right}.marts.{mart}
                        where account_id not in (select unnest(?))
                    )""",
                    [assigned, assigned],
                ).fetchall()[0][0]
                assert extra == 0, (mart, left)
        # the pilots' MRR does differ after the switch: the export is what moves it
        moved = connection.execute(
            """select count(*) from with_export.marts.fct_account_month as a
            join without.marts.fct_account_month as b using (account_id, month)
            where a.account_id in (select unnest(?)) and a.mrr_usd <> b.mrr_usd""",
            [sorted(_pilots())],
        ).fetchall()[0][0]
        assert moved > 0
    finally:
        connection.close()


def warehouse_path(connection: duckdb.DuckDBPyConnection) -> str:
    return connection.execute(
        "select path from duckdb_databases() where not internal and database_name <> 'memory'"
    ).fetchall()[0][0]


def test_bill_shock_judges_the_monthly_invoices_actually_issued(warehouse):
    # acc_00008's October under the hybrid is invoiced on November 1: 36.43 + 700.68 + 0.00
    # (its tokens stay within the 16 x 3M allowance) = 737.11, no tax (US). October itself has
    # no invoice: its last seat invoice was issued on September 20, so it is not billed.
    rows = dict(
        (month.isoformat(), (billed, total, judged))
        for month, billed, total, judged in warehouse.execute(
            """select month, is_billed, invoiced_usd, is_bill_shock_judged
            from marts.fct_account_month
            where account_id = 'acc_00008' and month between '2025-10-01' and '2025-12-01'"""
        ).fetchall()
    )
    assert rows["2025-10-01"][0] is False
    assert rows["2025-11-01"] == (True, Decimal("737.11"), True)
    # December's invoice is November's whole month: 99 + 16 x 119 = 1,904 + 0.00 = 2,003.
    assert rows["2025-12-01"][:2] == (True, Decimal("2003.00"))
