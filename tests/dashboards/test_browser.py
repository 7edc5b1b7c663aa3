"""The real `seatshift dashboard` server, driven by headless Chromium (STACK.md's quiet flags)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.lib.settings import REPO_ROOT
from tests.dashboards._support import private_copy, published_warehouse

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Offline machine: no update checks, no sync, no QUIC probes; a fresh profile per run.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
SERVER_START_SECONDS = 60
WAIT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the dashboard server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer at {url} within {SERVER_START_SECONDS}s")


@pytest.fixture
def dashboard_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    warehouse = private_copy(published_warehouse(request), tmp_path)
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("seatshift")),
        "dashboard",
        "--warehouse",
        str(warehouse),
        "--port",
        str(port),
    ]
    log = (tmp_path / "server.log").open("w")
    # Its own session, so stopping it stops exactly the processes this test started.
    server = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def test_operator_sees_data_health_in_a_real_browser(dashboard_url, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install chromium", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = browser.new_page()
            page.goto(f"{dashboard_url}/data_health", wait_until="domcontentloaded")
            # A screenshot right after load is blank: wait for the last section and the charts.
            last_section = page.get_by_text("Expectation results", exact=True)
            expect(last_section).to_be_visible(timeout=WAIT_MS)
            expect(page.locator('[data-testid="stMetric"]')).to_have_count(4, timeout=WAIT_MS)
            # The first chart sits in a tab that is not shown; wait for one that is.
            page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
            running = page.locator('[data-testid="stStatusWidget"]')
            expect(running).to_have_count(0, timeout=WAIT_MS)

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
        finally:
            browser.close()
