"""The Billing integrity page for the Finance controller: in-process with AppTest, and
the invoice explainer's one-click journey in a real browser against the real server."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.lib.settings import REPO_ROOT
from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page, wait_for_app_run
from tests.dashboards._support import ENTRYPOINT, published_warehouse

PAGE = "app_pages/billing_integrity.py"
MANIFEST = REPO_ROOT / "seeds" / "_manifest.json"


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def _billing_page(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    return app.switch_page(PAGE).run()


def _stale_quantity_error() -> dict:
    errors = json.loads(MANIFEST.read_text(encoding="utf-8"))["billing_errors"]
    return next(error for error in errors if error["kind"] == "stale_quantity")


def test_billing_page_shows_accuracy_and_every_mismatch_of_the_sample(sample, monkeypatch):
    errors = json.loads(MANIFEST.read_text(encoding="utf-8"))["billing_errors"]
    with duckdb.connect(str(sample), read_only=True) as connection:
        # counted from the reconciliation rows, not the monthly mart the page reads
        judged, matching = connection.execute(
            "select count(*), count(*) filter (where is_match) "
            "from marts.fct_invoice_reconciliation where is_in_accuracy"
        ).fetchone()

    app = _billing_page(monkeypatch, sample)

    assert not app.exception
    assert app.title[0].value == "Billing integrity"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Mismatched lines"] == str(len(errors))
    assert metrics["Line accuracy, period"] == f"{matching / judged * 100:.1f}%"
    mismatches = app.dataframe[1].value  # the accuracy table first, then the mismatches
    assert len(mismatches) == len(errors)
    # the reasons read as words on the page (the mart's `missing_proration` as "missing proration")
    assert set(mismatches["mismatch_reason"]) == {
        {"missed_proration": "missing_proration"}.get(error["kind"], error["kind"]).replace(
            "_", " "
        )
        for error in errors
    }


def test_invoice_explainer_lists_the_lines_of_the_chosen_invoice(sample, monkeypatch):
    error = _stale_quantity_error()
    app = _billing_page(monkeypatch, sample)
    app.selectbox(key="billing_account").set_value(error["invoice_id"].replace("inv", "acc")[:9])
    app.run()
    app.selectbox(key="billing_invoice").set_value(error["invoice_id"]).run()

    assert not app.exception
    lines = app.dataframe[-1].value
    stale = lines.set_index("line_id").loc[error["line_id"]]
    assert stale["mismatch_reason"] == "stale quantity"  # the mart's reason, read as words
    assert float(stale["expected_amount"]) == float(error["expected_amount"])
    assert float(stale["invoiced_amount"]) == float(error["invoiced_amount"])


def test_the_explainer_names_a_lines_kind_in_words(sample, monkeypatch):
    """A line kind or status with an underscore in the mart (platform_fee, void_invoice) reads as
    words in the explainer's table, as the reasons do."""
    with duckdb.connect(str(sample), read_only=True) as connection:
        account_id, invoice_id, kind = connection.execute(
            "select account_id, invoice_id, line_kind from marts.fct_invoice_reconciliation "
            "where invoice_id is not null and strpos(line_kind, '_') > 0 "
            "order by invoice_id limit 1"
        ).fetchone()
    app = _billing_page(monkeypatch, sample)
    app.selectbox(key="billing_account").set_value(account_id).run()
    app.selectbox(key="billing_invoice").set_value(invoice_id).run()
    assert not app.exception
    lines = app.dataframe[-1].value
    assert kind.replace("_", " ") in set(lines["line_kind"])
    for column in ("line_kind", "reconciliation_status", "mismatch_reason"):
        assert not lines[column].dropna().str.contains("_").any(), column


def _line_counts(warehouse: Path, account_id: str) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return dict(
            connection.execute(
                "select invoice_id, count(*) from marts.fct_invoice_reconciliation "
                "where account_id = ? and invoice_id is not null group by invoice_id",
                [account_id],
            ).fetchall()
        )


@pytest.mark.browser
def test_controller_sees_a_lines_seat_events_in_one_click(
    dashboard_url, tmp_path, request: pytest.FixtureRequest
):
    from playwright.sync_api import expect

    error = _stale_quantity_error()
    account_id = error["invoice_id"].replace("inv", "acc")[:9]
    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(f"{dashboard_url}/billing_integrity", wait_until="domcontentloaded")
        expect(page.get_by_text("Invoice explainer", exact=True)).to_be_visible(timeout=WAIT_MS)
        page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)

        account = page.get_by_role("combobox", name="Account")
        account.click()
        account.fill(account_id)
        page.get_by_role("option").filter(has_text=account_id).first.click()
        # The account reruns the page: the invoice box is drawn again; wait for the run to end
        # before typing into it (a loaded machine otherwise types into a box being replaced).
        wait_for_app_run(page)
        invoice = page.get_by_role("combobox", name="Invoice")
        expect(invoice).to_be_visible(timeout=WAIT_MS)
        invoice.click()
        invoice.fill(error["invoice_id"])
        # Enter picks the option the filter focused: a click could meet an option being redrawn.
        expect(page.get_by_role("option").filter(has_text=error["invoice_id"]).first).to_be_visible(
            timeout=WAIT_MS
        )
        invoice.press("Enter")
        wait_for_app_run(page)

        # One click on the first line (the seat line) in the grid's row-selection column.
        grid = page.locator('[data-testid="stDataFrame"]').last
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)
        events_heading = page.get_by_text(f"Seat events behind {error['line_id']}")
        expect(events_heading).to_be_visible(timeout=WAIT_MS)
        wait_for_app_run(page)
        page.screenshot(path=str(ARTIFACTS / "billing_integrity.png"), full_page=True)

        # Regression: the last line of this invoice selected, then an invoice with fewer lines
        # picked, raised an IndexError (the old selection pointed past the shorter table).
        counts = _line_counts(published_warehouse(request), account_id)
        many = counts[error["invoice_id"]]
        assert many >= 2
        fewer = next(invoice for invoice, n in sorted(counts.items()) if n < many)
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 17 + 35 * (many - 1))
        wait_for_app_run(page)
        invoice.click()
        invoice.fill(fewer)
        page.get_by_role("option").filter(has_text=fewer).first.click()
        wait_for_app_run(page)
        expect(page.get_by_text("Click a line (its first column)")).to_be_visible(timeout=WAIT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0


def test_the_explainer_finds_an_invoice_by_id_and_opens_on_a_mismatched_one(sample, monkeypatch):
    """Typing an invoice id opens that invoice (and its account); an account with a mismatch opens
    on its mismatched invoice. The invoice of the sample's stale quantity is the known mismatch."""
    error = _stale_quantity_error()
    with duckdb.connect(str(sample), read_only=True) as connection:
        (account,) = connection.execute(
            "select account_id from marts.fct_invoice_checks where invoice_id = ?",
            [error["invoice_id"]],
        ).fetchone()
        mismatched = {
            row[0]
            for row in connection.execute(
                "select invoice_id from marts.fct_invoice_checks"
                " where account_id = ? and mismatched_lines > 0",
                [account],
            ).fetchall()
        }
    app = _billing_page(monkeypatch, sample)
    app.text_input(key="billing_invoice_search").input(error["invoice_id"]).run()
    assert not app.exception
    assert app.selectbox(key="billing_account").value == account
    assert app.selectbox(key="billing_invoice").value == error["invoice_id"]
    lines = app.dataframe[-1].value
    assert error["line_id"] in set(lines["line_id"])

    fresh = _billing_page(monkeypatch, sample)
    fresh.selectbox(key="billing_account").set_value(account).run()
    assert not fresh.exception
    assert fresh.selectbox(key="billing_invoice").value in mismatched

    unknown = _billing_page(monkeypatch, sample)
    unknown.text_input(key="billing_invoice_search").input("inv_does_not_exist").run()
    assert any("No invoice" in warning.value for warning in unknown.warning)
