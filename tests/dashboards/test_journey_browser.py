"""The revenue lead's journey on the real `seatshift dashboard` server in headless Chromium: the
revenue lead opens the Overview, looks into the crossed segment (the choice lives in the URL),
downloads the pilot list and writes the decision pack; every page is screenshot at 1280x800. The
pack is then opened from file:// with the network blocked."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.settings import audit_trail_path
from tests.dashboards._browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    WAIT_MS,
    chromium_page,
    wait_for_app_run,
)
from tests.dashboards._support import published_warehouse

pytestmark = pytest.mark.browser

PAGES = ("seat_health", "value_shift", "shadow_billing", "billing_integrity", "data_health")


def _settle(page) -> None:
    """Wait until the script run ends and a chart is drawn, so a screenshot is not blank."""
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
    wait_for_app_run(page)
    page.wait_for_timeout(500)


def _wait_for_record(trail: Path, label: str) -> None:
    """Wait until the audit trail holds a download of `label` (its click's rerun wrote it)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        lines = trail.read_text(encoding="utf-8").splitlines() if trail.exists() else []
        if any(json.loads(line)["download"] == label for line in lines):
            return
        assert time.monotonic() < deadline, f"no record of {label!r} in {trail}"
        time.sleep(0.1)


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").first.inner_text()


def test_revenue_lead_walks_journey_one_in_a_real_browser(dashboard_url, request, tmp_path):
    from playwright.sync_api import expect

    warehouse = published_warehouse(request)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        ranked = [
            row[0]
            for row in conn.execute(
                """
                select account_id from marts.fct_pilot_accounts
                where segment = 'mid_market' and price_model_id = 'hybrid_seat_plus_tokens'
                order by fit_rank
                """
            ).fetchall()
        ]
        verdicts: dict[str, dict[str, bool]] = {}
        for segment, name, viable in conn.execute(
            """
            select triggers.segment, models.name, triggers.is_triggered
            from marts.fct_migration_triggers as triggers
            join marts.dim_price_models as models using (price_model_id)
            where triggers.month = (select max(month) from marts.fct_migration_triggers)
            """
        ).fetchall():
            verdicts.setdefault(segment, {})[name] = bool(viable)
    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(dashboard_url, wait_until="domcontentloaded")
        expect(page.get_by_text("Mid-market: crossed the trigger in")).to_be_visible(
            timeout=WAIT_MS
        )
        _settle(page)
        body = _main_text(page)
        assert "Traceback" not in body
        for text in ("Data as of", "Crossed", "Healthy", "Which proposal passes", "Pilot list"):
            assert text in body
        page.screenshot(path=str(ARTIFACTS / "overview.png"))

        _pilot_selector_follows_the_verdict(page, verdicts["mid_market"])

        # look into another segment and back: the choice is in the URL, so it can be shared
        page.get_by_role("radio", name="SMB", exact=True).click()
        expect(page.get_by_text("SMB: ")).to_be_visible(timeout=WAIT_MS)
        expect(page).to_have_url(re.compile(r"[?&]focus=SMB\b"), timeout=WAIT_MS)
        _settle(page)
        _pilot_selector_follows_the_verdict(page, verdicts["smb"])
        # a shared link may name the segment by its id as well as by its label
        page.goto(f"{dashboard_url}/?focus=enterprise", wait_until="domcontentloaded")
        expect(page.get_by_text("Enterprise: ")).to_be_visible(timeout=WAIT_MS)
        _settle(page)
        _pilot_selector_follows_the_verdict(page, verdicts["enterprise"])
        page.get_by_role("radio", name="Mid-market", exact=True).click()
        expect(page.get_by_text("Mid-market: crossed the trigger in")).to_be_visible(
            timeout=WAIT_MS
        )
        _settle(page)
        _pilot_selector_follows_the_verdict(page, verdicts["mid_market"])

        pilot_csv_label = "Download the pilot list (CSV)"
        with page.expect_download(timeout=WAIT_MS) as download:
            page.get_by_role("button", name=pilot_csv_label).click()
        pilot_csv = tmp_path / "pilot.csv"
        download.value.save_as(pilot_csv)
        with pilot_csv.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [row["Account"] for row in rows] == ranked
        # A download is recorded in the audit trail by its click, which reruns the page, and the
        # rerun draws the pack's button again under a new file id: a click on the old one finds
        # nothing to write (the server logs "Deferred file ... not found"). The browser may save
        # the file before the rerun begins, so wait for its record, then for that run to end.
        _wait_for_record(audit_trail_path(tmp_path / "seatshift.duckdb"), pilot_csv_label)
        _settle(page)

        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="Write the decision pack").click()
        pack = tmp_path / download.value.suggested_filename
        download.value.save_as(pack)
        assert pack.name == "seatshift_decision_pack_mid_market_hybrid_seat_plus_tokens.html"
        cards = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        # a card per segment, then the recommended proposal's revenue if nobody moves, under the
        # forced switch, under choice and the adverse selection
        assert len(cards) == 3 + 4

        for path in PAGES:
            page.goto(f"{dashboard_url}/{path}", wait_until="domcontentloaded")
            _settle(page)
            assert "Traceback" not in _main_text(page), path
            page.screenshot(path=str(ARTIFACTS / f"{path}.png"))

    _the_pack_opens_offline_with_the_pages_numbers(pack, cards, ranked[:10], tmp_path)


def _pilot_selector_follows_the_verdict(page, verdicts: dict[str, bool]) -> None:
    """The pilot selector offers and preselects only a proposal that passes the migration trigger
    in the segment (fct_migration_triggers.is_triggered at the last month); with none passing it
    says so and offers no list."""
    main = _main_text(page)
    passing = [name for name, viable in verdicts.items() if viable]
    if not passing:
        assert "no pilot list is offered" in main
        assert page.locator(".st-key-pilot_model").count() == 0
        return
    selector = page.locator(".st-key-pilot_model").first
    chosen = selector.inner_text() + " ".join(
        box.input_value() for box in selector.locator("input").all()
    )
    assert any(name in chosen for name in passing), (chosen, verdicts)
    assert not any(name in chosen for name, viable in verdicts.items() if not viable), chosen


def _the_pack_opens_offline_with_the_pages_numbers(
    pack: Path, cards: list[str], accounts: list[str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "offline-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
            offline=True,
        )
        try:

            def block(route) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    requested.append(route.request.url)
                    route.abort()

            browser.route("**/*", block)
            page = browser.new_page()
            page.goto(pack.as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=WAIT_MS)
            charts = page.locator(".js-plotly-plot").count()
            text = page.locator("body").inner_text()
            page.screenshot(path=str(ARTIFACTS / "decision_pack.png"))
        finally:
            browser.close()
    assert requested == []
    # the six signal trends, the projection's band, the proposal's MRR beside its cash and cost,
    # and the sample pilot's MRR month by month around its switch, drawn by the inline plotly.js
    assert charts == 9
    for value in cards:  # the Overview's cards
        assert value in text
    for account in accounts:
        assert account in text
