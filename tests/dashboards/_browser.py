"""The real `seatshift dashboard` server and headless Chromium (with quiet flags), shared by
the browser tests; the `dashboard_url` fixture in conftest.py starts the server with these."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from orchestration.lib.settings import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


def free_port() -> int:
    """A port free on 127.0.0.1 whose next port is free too: `seatshift dashboard` serves the
    docs on the port after its own. Both are drawn below Linux's ephemeral range (32768 and up),
    where the kernel hands out the local ports of outgoing connections: an OS-chosen port's
    neighbour was taken by one (the browser's, the other worker's) often enough under load that
    the dashboard could not serve its docs there and the links were refused."""
    for _ in range(500):
        port = random.randint(20000, 32000)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two adjacent free ports between 20000 and 32001 on 127.0.0.1")


def wait_until_healthy(url: str, server: subprocess.Popen) -> None:
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


@contextmanager
def dashboard_server(warehouse: Path, log_path: Path, secrets: Path | None = None) -> Iterator[str]:
    """`seatshift dashboard` on a free port, serving `warehouse`; yields its URL once healthy.

    `secrets` is the dashboard's secrets file (sign-in and roles); without one the server gets a
    path that does not exist, so a developer's own `.streamlit/secrets.toml` never changes a test.
    """
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("seatshift")),
        "dashboard",
        "--warehouse",
        str(warehouse),
        "--port",
        str(port),
        "--secrets",
        str(secrets or log_path.with_name("no-secrets.toml")),
    ]
    with log_path.open("w") as log:
        # Its own session, so stopping it stops exactly the processes this test started.
        server = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, server)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def wait_for_app_run(page: Page) -> None:
    """Wait until the page's script run has ended.

    The app root carries the run's state (`data-test-script-state`, Streamlit's own end-to-end
    tests wait on it the same way). A widget's click sets it to `rerunRequested` in the browser
    at once, so waiting for `notRunning` after a click cannot pass before the rerun began, as
    waiting for the "running" indicator to vanish could (it shows only after a delay).
    """
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=WAIT_MS
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=WAIT_MS
    )


@contextmanager
def chromium_page(profile_dir: Path) -> Iterator[Page]:
    """A page of headless Chromium at 1280x800 with a fresh profile; the browser closes after.

    Fails the test in one line when Chromium is not installed, and makes sure ARTIFACTS exists
    for the screenshots.
    """
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()
