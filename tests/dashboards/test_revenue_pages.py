"""The Seat health and Value shift pages: in-process with AppTest, then in a real browser."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from orchestration.lib.settings import DASHBOARD_ENTRYPOINT
from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page
from tests.dashboards._support import ENTRYPOINT, published_warehouse

sys.path.insert(0, str(DASHBOARD_ENTRYPOINT.parent))  # the pages import `lib` from there too

from lib.format import money, percent

PAGES = ("app_pages/seat_health.py", "app_pages/value_shift.py")


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def run_page(monkeypatch: pytest.MonkeyPatch, warehouse: Path, page: str) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    return app.switch_page(page).run()


def latest_all_segments(warehouse: Path, columns: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            f"select {columns} from marts.rpt_revenue_portfolio_monthly "
            "where segment = 'all' order by month desc limit 1"
        ).fetchone()


@pytest.mark.parametrize("page", PAGES)
def test_revenue_page_renders_without_an_error(page, sample, monkeypatch):
    app = run_page(monkeypatch, sample, page)

    assert not app.exception
    assert not app.error
    # The header's stale-data notice is about the sample's age; any other warning is a failed query.
    assert [w.value for w in app.warning if not w.value.startswith("The data is stale")] == []


def test_seat_health_kpis_equal_the_marts_latest_month(sample, monkeypatch):
    ending_mrr, below_red_flag, arpa = latest_all_segments(
        sample, "ending_mrr_usd, share_below_red_flag, arpa_usd"
    )
    with duckdb.connect(str(sample), read_only=True) as connection:
        (nrr,) = connection.execute(
            "select nrr from marts.fct_nrr_monthly "
            "where segment = 'all' order by month desc limit 1"
        ).fetchone()

    app = run_page(monkeypatch, sample, PAGES[0])

    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["MRR"] == money(ending_mrr)
    assert metrics["NRR (12 months)"] == percent(nrr)
    assert metrics["Accounts below 70%"] == percent(below_red_flag)
    assert metrics["ARPA"] == money(arpa)


def test_value_shift_kpis_equal_the_marts_latest_month(sample, monkeypatch):
    automation_share, margin, power_users = latest_all_segments(
        sample, "automation_share, gross_margin, power_user_accounts"
    )

    app = run_page(monkeypatch, sample, PAGES[1])

    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Automation share"] == percent(automation_share)
    assert metrics["Gross margin"] == percent(margin)
    assert metrics["Power users"] == f"{power_users:,}"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "title", "sections"),
    [
        (
            "seat_health",
            "Seat health",
            (
                "Seat utilization",
                "Net and gross revenue retention",
                "Cohort retention",
                "MRR waterfall",
                "ARPA and ARPU",
            ),
        ),
        (
            "value_shift",
            "Value shift",
            (
                "Automation share by segment",
                "Accounts: usage per seat, cost and margin",
                "Bill shock over time",
            ),
        ),
    ],
)
def test_revenue_page_renders_in_a_real_browser(dashboard_url, tmp_path, path, title, sections):
    from playwright.sync_api import expect

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(dashboard_url, wait_until="domcontentloaded")
        # The first page of the navigation has no path of its own: go through the sidebar.
        page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
        expect(page.get_by_text(sections[-1], exact=True)).to_be_visible(timeout=WAIT_MS)
        page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
        expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=WAIT_MS)
        body = page.locator("[data-testid='stMain']").first.inner_text()
        assert title in body
        for section in sections:
            assert section in body
        assert "Traceback" not in body
        assert page.locator(".js-plotly-plot").count() >= len(sections) - 1
        page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)
