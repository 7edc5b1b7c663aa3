"""Sign-in, roles and the audit trail on the real `seatshift dashboard` server in headless
Chromium, against a real OpenID Connect provider on 127.0.0.1 (tests/dashboards/_oidc_provider.py):
Streamlit's own `st.login` does the authorization-code flow and checks the signed ID token.

One server for the whole flow: a viewer signs in, misses the invoice explainer and the
account-level downloads (in the navigation, by URL and on the page), signs out; a finance reader
signs in, opens the explainer, downloads, and finds the download in the audit trail."""

from __future__ import annotations

import csv
import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.lib.settings import REPO_ROOT, audit_trail_path
from tests.dashboards._browser import (
    ARTIFACTS,
    WAIT_MS,
    chromium_page,
    dashboard_server,
    wait_for_app_run,
)
from tests.dashboards._oidc_provider import OidcProvider
from tests.dashboards._support import private_copy, published_warehouse

SEATSHIFT = Path(sys.executable).with_name("seatshift")
VIEWER = "vera@example.com"
FINANCE = "fiona@example.com"
# Streamlit's signed cookie that keeps a reader signed in; signing out deletes it.
IDENTITY_COOKIE = "_streamlit_user"
USERS = {
    VIEWER: {"name": "Vera Viewer", "groups": ["staff"]},
    FINANCE: {"name": "Fiona Finance", "groups": ["staff", "finance-team"]},
}


def _secrets_file(folder: Path, provider: OidcProvider) -> Path:
    """The dashboard's secrets: `[auth]` pointing at the test provider; finance comes from the
    group claim, operator from the email, viewer from signing in at all."""
    path = folder / "secrets.toml"
    path.write_text(
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "{provider.client_id}"
client_secret = "{provider.client_secret}"
server_metadata_url = "{provider.metadata_url}"

[seatshift.roles]
finance = ["group:finance-team"]
operator = ["{FINANCE}"]
""",
        encoding="utf-8",
    )
    return path


def _sign_in(page, url: str, email: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click(timeout=WAIT_MS)
    page.get_by_label("Email").fill(email)  # the provider's own sign-in page
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(f"({email})")).to_be_visible(timeout=WAIT_MS)


def _sign_out(page) -> None:
    """Sign out and wait until the identity cookie is gone. Streamlit shows the sign-in screen
    at once, then sends the browser to its logout route, which deletes the cookie (and on to the
    provider's end-session endpoint and back). A page opened before that route answered would
    cancel it and arrive still signed in."""
    from playwright.sync_api import expect

    def signed_in() -> bool:
        return any(cookie["name"] == IDENTITY_COOKIE for cookie in page.context.cookies())

    assert signed_in(), f"no {IDENTITY_COOKIE} cookie while signed in"
    page.get_by_role("button", name="Sign out").click()
    deadline = time.monotonic() + WAIT_MS / 1000
    while signed_in():
        assert time.monotonic() < deadline, "signing out left the identity cookie in the browser"
        page.wait_for_timeout(100)
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)


def _navigation(page) -> str:
    return page.locator("[data-testid='stSidebarNav']").inner_text(timeout=WAIT_MS)


def _settled(page) -> None:
    wait_for_app_run(page)


@pytest.mark.browser
def test_a_viewer_misses_the_invoice_pages_and_finance_downloads_into_the_audit_trail(
    request, tmp_path
):
    from playwright.sync_api import expect

    warehouse = private_copy(published_warehouse(request), tmp_path)
    trail = audit_trail_path(warehouse)
    with (
        OidcProvider(users=USERS) as provider,
        dashboard_server(
            warehouse, tmp_path / "server.log", secrets=_secrets_file(tmp_path, provider)
        ) as url,
        chromium_page(tmp_path / "chromium-profile") as page,
    ):
        # ---- a viewer ----------------------------------------------------------------------
        _sign_in(page, url, VIEWER)
        expect(page.get_by_text("roles: viewer")).to_be_visible()
        navigation = _navigation(page)
        assert "Overview" in navigation
        assert "Billing integrity" not in navigation
        expect(page.get_by_text("Pilot list", exact=True)).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        expect(
            page.get_by_text("“Download the pilot list (CSV)” needs the finance role.")
        ).to_be_visible()
        assert page.get_by_role("button", name="Download the pilot list (CSV)").count() == 0
        assert page.get_by_role("button", name="Write the decision pack").count() == 0

        page.goto(f"{url}/billing_integrity", wait_until="domcontentloaded")
        expect(page.get_by_text("This needs the finance role")).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        page.screenshot(path=str(ARTIFACTS / "sign_in_viewer_billing_integrity.png"))
        assert "Invoice explainer" not in page.locator("[data-testid='stMain']").inner_text()
        assert page.get_by_role("button", name="Download CSV").count() == 0

        page.goto(f"{url}/data_health", wait_until="domcontentloaded")
        expect(page.get_by_text("needs the operator role")).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        page.screenshot(path=str(ARTIFACTS / "sign_in_viewer_data_health.png"))
        assert "Audit trail" not in page.locator("[data-testid='stMain']").inner_text()
        assert page.get_by_role("button", name="Download CSV").count() == 0

        _sign_out(page)

        # ---- finance (and operator) ---------------------------------------------------------
        _sign_in(page, url, FINANCE)
        assert "Billing integrity" in _navigation(page)
        page.goto(f"{url}/billing_integrity", wait_until="domcontentloaded")
        expect(page.get_by_text("Invoice explainer")).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        button = page.locator("[data-testid='stDownloadButton'] button:visible").first
        with page.expect_download(timeout=WAIT_MS) as download:
            button.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.stat().st_size > 0
        _settled(page)
        # The click's callback records the download in the server's rerun, which may end after
        # the browser has the file.
        deadline = time.monotonic() + 30
        while not trail.exists() and time.monotonic() < deadline:
            time.sleep(0.2)

        recorded = [json.loads(line) for line in trail.read_text().splitlines()]
        assert [(row["email"], row["file_name"]) for row in recorded] == [(FINANCE, saved.name)]
        assert recorded[0]["page"] == "Billing integrity"
        assert recorded[0]["roles"] == "finance,operator,viewer"
        assert set(recorded[0]["filters"]) >= {"segments", "period"}

        # the operator's view of the trail, exported
        page.goto(f"{url}/data_health", wait_until="domcontentloaded")
        expect(page.get_by_text("1 download recorded")).to_be_visible(timeout=WAIT_MS)
        _settled(page)
        audit_button = page.locator("[data-testid='stDownloadButton'] button:visible").last
        with page.expect_download(timeout=WAIT_MS) as download:
            audit_button.click()
        assert download.value.suggested_filename == "audit_trail.csv"
        exported = tmp_path / "audit_trail.csv"
        download.value.save_as(exported)
        with exported.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [(row["email"], row["file_name"]) for row in rows] == [(FINANCE, saved.name)]
        # The export is itself a download, recorded in the server's rerun of the click, which may
        # end after the browser has the file (as for the first download above): wait while the
        # server still runs, since stopping it would cut that rerun short.
        deadline = time.monotonic() + 30
        while len(trail.read_text().splitlines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)

    assert provider.sign_ins == [VIEWER, FINANCE]
    assert len(trail.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("secrets_text", "reason"),
    [
        (None, r"--host 0\.0\.0\.0 .*sign-in is not configured \(no secrets file at "),
        ("", r"--host 0\.0\.0\.0 .*sign-in is not configured \(no \[auth\] in "),
        (
            '[auth]\nredirect_uri = "http://x/oauth2callback"\n',
            r"\[auth\] in .* lacks cookie_secret",
        ),
    ],
    ids=["no-secrets-file", "without-auth", "incomplete-auth"],
)
def test_the_dashboard_refuses_a_public_address_without_sign_in(tmp_path, secrets_text, reason):
    secrets_file = tmp_path / "secrets.toml"
    if secrets_text is not None:
        secrets_file.write_text(secrets_text, encoding="utf-8")
    completed = subprocess.run(
        [
            str(SEATSHIFT),
            "dashboard",
            "--host",
            "0.0.0.0",
            "--warehouse",
            str(tmp_path / "seatshift.duckdb"),
            "--secrets",
            str(secrets_file),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert completed.returncode != 0
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.match(r"dashboard refused: " + reason, lines[0]), lines[0]
