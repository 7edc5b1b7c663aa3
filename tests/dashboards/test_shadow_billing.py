"""The Shadow billing page: AppTest, the what-if against the marts, then a real browser."""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.lib.settings import DASHBOARD_ENTRYPOINT
from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page
from tests.dashboards._support import ENTRYPOINT, published_warehouse

sys.path.insert(0, str(DASHBOARD_ENTRYPOINT.parent))  # the page imports `lib` from there too

from lib import queries

PAGE = "app_pages/shadow_billing.py"
HYBRID = "hybrid_seat_plus_tokens"


@pytest.fixture
def sample(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = published_warehouse(request)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return warehouse


def _marts_guardrails(warehouse: Path, model: str) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            """
            select segment, shadow_usd, revenue_delta_pct, winners_share, losers_share,
                shocked_account_months, billed_account_months, is_passing
            from marts.fct_price_model_guardrails where price_model_id = ?
            """,
            [model],
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_shadow_billing_page_renders_verdicts_without_an_error(sample):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(PAGE).run()

    assert not app.exception
    assert not app.error
    assert [w.value for w in app.warning if not w.value.startswith("The data is stale")] == []
    labels = [metric.label for metric in app.metric]
    assert "Shadow bill-shock rate" in labels
    assert any(header.value == "Guardrails by segment" for header in app.subheader)


def test_what_if_on_the_shipped_price_book_reproduces_the_marts(sample):
    """The dashboard's in-memory path (published SQL, restated bill-shock rule) and dbt's marts
    agree on every model, segment and flag when nothing is edited."""
    _, components, tiers = queries.full_price_book()
    result = queries.what_if(components, tiers)["guardrails"]
    for model in components["price_model_id"].unique():
        expected = _marts_guardrails(sample, model)
        got = result[result["price_model_id"] == model].set_index("segment")
        assert set(got.index) == set(expected)
        for segment, (shadow, delta, winners, losers, shocked, billed, passing) in expected.items():
            row = got.loc[segment]
            assert Decimal(str(row["shadow_usd"])) == shadow, (model, segment)
            assert row["revenue_delta_pct"] == pytest.approx(delta, abs=1e-12)
            assert row["winners_share"] == pytest.approx(winners, abs=1e-12)
            assert row["losers_share"] == pytest.approx(losers, abs=1e-12)
            assert (row["shocked_account_months"], row["billed_account_months"]) == (
                shocked,
                billed,
            ), (model, segment)
            assert bool(row["is_passing"]) == passing


def test_what_if_raises_the_hybrid_seat_price_by_exactly_seats_times_the_increase(sample):
    """+10 USD on the hybrid's seat fee adds 10 x the seats of every rated account-month (a sum
    taken independently from fct_rating_quantities), and answers well under a second here."""
    components, tiers = queries.price_book(HYBRID)
    edited = components.copy()
    seats_row = edited["component_id"] == "seats"
    edited.loc[seats_row, "unit_amount"] = edited.loc[seats_row, "unit_amount"] + 10
    baseline = queries.what_if(components, tiers)["guardrails"].set_index("segment")
    started = time.perf_counter()
    rerated = queries.what_if(edited, tiers)["guardrails"].set_index("segment")
    elapsed = time.perf_counter() - started
    with duckdb.connect(str(sample), read_only=True) as connection:
        (seat_months,) = connection.execute(
            "select sum(quantity) from marts.fct_rating_quantities where metric = 'seats'"
        ).fetchall()[0]
    increase = Decimal(str(rerated.loc["all", "shadow_usd"])) - Decimal(
        str(baseline.loc["all", "shadow_usd"])
    )
    assert increase == seat_months * 10
    assert elapsed < 1.0


def test_what_if_says_why_an_edited_price_book_cannot_be_rated(sample):
    components, tiers = queries.price_book(HYBRID)
    broken = components.astype(object)
    broken.loc[broken["component_id"] == "seats", "unit_amount"] = "ten dollars"
    with pytest.raises(queries.QueryFailed, match="check its cells"):
        queries.what_if(broken, tiers)


@pytest.mark.browser
def test_analyst_compares_models_and_sees_the_guardrails_in_a_real_browser(dashboard_url, tmp_path):
    from playwright.sync_api import expect

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(f"{dashboard_url}/shadow_billing", wait_until="domcontentloaded")
        expect(page.get_by_text("Guardrails by segment", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_text("Download the edited price book (CSVs)")).to_be_visible(
            timeout=WAIT_MS
        )
        page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
        expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=WAIT_MS)
        body = page.locator("[data-testid='stMain']").first.inner_text()
        for text in ("Shadow billing", "Revenue against current", "Bill-shock rate",
                     "Winners and losers", "Accounts most affected", "What-if"):  # fmt: skip
            assert text in body, text
        assert "passes the guardrails" in body or "fails: " in body
        assert "Traceback" not in body
        page.screenshot(path=str(ARTIFACTS / "shadow_billing.png"))
        page.set_viewport_size({"width": 1280, "height": 4200})
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(ARTIFACTS / "shadow_billing_full.png"))
