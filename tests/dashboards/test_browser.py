"""The Data health page on the real `seatshift dashboard` server, driven by headless Chromium."""

from __future__ import annotations

import pytest

from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page, wait_for_app_run

pytestmark = pytest.mark.browser


def test_operator_sees_data_health_in_a_real_browser(dashboard_url, tmp_path):
    from playwright.sync_api import expect

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(f"{dashboard_url}/data_health", wait_until="domcontentloaded")
        # A screenshot right after load is blank: wait for the last section and the charts.
        last_section = page.get_by_text("Expectation results", exact=True)
        expect(last_section).to_be_visible(timeout=WAIT_MS)
        expect(page.locator('[data-testid="stMetric"]')).to_have_count(4, timeout=WAIT_MS)
        # The first chart sits in a tab that is not shown; wait for one that is.
        page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
        wait_for_app_run(page)

        body = page.locator("section.main, [data-testid='stMain']").first.inner_text()
        for text in ("Data health", "Data as of", "Last refresh", "Next refresh"):
            assert text in body
        for label in ("Files loaded", "Rows loaded", "Rows quarantined", "Expectations failed"):
            assert label in body
        assert "Traceback" not in body
        page.screenshot(path=str(ARTIFACTS / "data_health.png"))
        # Streamlit scrolls inside its own container, so full_page sees one screen: grow it.
        page.set_viewport_size({"width": 1280, "height": 2800})
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(ARTIFACTS / "data_health_full.png"))


def test_the_documentation_links_answer_while_only_the_dashboard_runs(request, tmp_path):
    """No `seatshift docs` runs here: the dashboard's own process serves the dbt docs and the GX
    Data Docs its Data health buttons link to (on the port after its own), and they answer."""
    import shutil
    import urllib.request
    from urllib.parse import urlparse

    from playwright.sync_api import expect

    from orchestration.lib import settings
    from tests.dashboards._browser import dashboard_server
    from tests.dashboards._support import private_copy, published_warehouse

    sample = published_warehouse(request)
    warehouse = private_copy(sample, tmp_path)
    for folder in (settings.dbt_docs_dir, settings.data_docs_dir):
        shutil.copytree(folder(sample), folder(warehouse))
    with (
        dashboard_server(warehouse, tmp_path / "server.log") as dashboard_url,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        page.goto(f"{dashboard_url}/data_health", wait_until="domcontentloaded")
        button = page.get_by_role("link", name="dbt docs: lineage, models and columns")
        expect(button).to_be_visible(timeout=WAIT_MS)
        dbt_docs = button.get_attribute("href")
        data_docs = page.get_by_role("link", name="Great Expectations Data Docs").get_attribute(
            "href"
        )
        assert urlparse(dbt_docs).port == urlparse(dashboard_url).port + 1
        for url in (dbt_docs, data_docs):
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200, url
                assert len(response.read()) > 0, url


def test_every_quarantined_row_is_written_when_the_reader_asks_for_it(request, tmp_path):
    """The page counts the quarantined rows and offers the file; DuckDB writes it on the click.
    The download holds every row of the latest refresh's quarantine (counted here from
    audit.quarantine), and the audit trail records the count the page offered."""
    import csv
    import json
    import time

    import duckdb
    from playwright.sync_api import expect

    from orchestration.lib.settings import audit_trail_path
    from tests.dashboards._browser import dashboard_server
    from tests.dashboards._support import private_copy, published_warehouse

    warehouse = private_copy(published_warehouse(request), tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (quarantined,) = connection.execute(
            "select count(*) from audit.quarantine where refresh_id = (select refresh_id "
            "from audit.refresh_log order by finished_at desc nulls last, started_at desc limit 1)"
        ).fetchone()
    assert quarantined > 0, "the sample quarantines rows of its planted errors"
    with (
        dashboard_server(warehouse, tmp_path / "server.log") as dashboard_url,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        page.goto(f"{dashboard_url}/data_health", wait_until="domcontentloaded")
        button = page.get_by_role("button", name="Download every quarantined row")
        expect(button).to_be_visible(timeout=WAIT_MS)
        wait_for_app_run(page)
        with page.expect_download(timeout=WAIT_MS) as download:
            button.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        with saved.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert saved.name == "quarantined_rows.csv"
        assert len(rows) == quarantined
        assert {"export", "file_name", "row_number", "rule", "raw_record"} <= set(rows[0])
        trail = audit_trail_path(warehouse)
        deadline = time.monotonic() + 30
        while not trail.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        (entry,) = [json.loads(line) for line in trail.read_text().splitlines()]
        assert (entry["file_name"], entry["rows"]) == ("quarantined_rows.csv", quarantined)
