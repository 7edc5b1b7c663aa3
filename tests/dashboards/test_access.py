"""Roles from settings and the audit trail, in-process: the pure rules, the documented example
secrets file, and the router's gates under AppTest (Streamlit's own `st.user` and `st.secrets`
as a signed-in session sees them). The browser and a real provider: test_sign_in_browser.py."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import access, audit
from orchestration.lib.settings import REPO_ROOT, audit_trail_path, build_dir
from tests.dashboards._support import ENTRYPOINT, published_warehouse

ROLES = {"finance": ["group:finance-team", "Carla@Example.com"], "operator": ["olga@example.com"]}
EXAMPLE = REPO_ROOT / ".streamlit" / "secrets.toml.example"


@pytest.mark.parametrize(
    ("email", "groups", "table", "expected"),
    [
        ("vera@example.com", [], ROLES, {"viewer"}),
        ("fred@example.com", ["finance-team"], ROLES, {"viewer", "finance"}),
        ("carla@example.com", [], ROLES, {"viewer", "finance"}),  # emails ignore case
        ("olga@example.com", ["staff"], ROLES, {"viewer", "operator"}),
        ("anna@example.com", [], {"analyst": ["*"]}, {"viewer", "analyst"}),
        # An explicit viewer list: a reader on no list holds no role at all.
        ("stranger@example.com", [], {"viewer": ["group:staff"]}, set()),
        ("member@example.com", ["staff"], {"viewer": ["group:staff"]}, {"viewer"}),
        ("x@example.com", [], {"admin": ["*"]}, {"viewer"}),  # unknown roles give nothing
    ],
)
def test_roles_come_from_emails_groups_and_everyone(email, groups, table, expected):
    assert access.roles_for(email, groups, table) == expected


def test_the_example_secrets_file_parses_and_configures_sign_in_and_every_role():
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    auth = example["auth"]
    for key in ("redirect_uri", "cookie_secret", "client_id", "client_secret"):
        assert auth[key]
    assert auth["server_metadata_url"].endswith("/.well-known/openid-configuration")
    assert set(example["seatshift"]["roles"]) <= set(access.ROLES)
    assert access.roles_for("ops@example.com", [], example["seatshift"]["roles"]) == {
        "viewer",
        "operator",
    }


def test_the_audit_trail_lives_beside_the_warehouse_out_of_a_refreshs_reach(tmp_path):
    warehouse = tmp_path / "seatshift.duckdb"
    trail = audit_trail_path(warehouse)
    assert trail.parent == warehouse.parent and trail != warehouse
    assert build_dir(warehouse) not in trail.parents  # the folder a refresh cleans
    entry = audit.Download("Overview", "Download CSV", "a.csv", 3, {"segments": ["smb"]})
    audit.record(entry, "a@example.com", {"finance", "viewer"}, path=trail)
    audit.record(entry, None, set(access.ROLES), path=trail)
    lines = [json.loads(line) for line in trail.read_text().splitlines()]
    assert [line["email"] for line in lines] == ["a@example.com", ""]
    assert list(lines[0]) == list(audit.COLUMNS)
    frame = audit.read_trail(trail)
    assert list(frame.columns) == list(audit.COLUMNS)
    assert len(frame) == 2


def _signed_in(
    monkeypatch: pytest.MonkeyPatch, warehouse: Path, email: str, groups: list[str]
) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    app.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "not-a-secret-only-a-test",
        "client_id": "seatshift",
        "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    app.secrets["seatshift"] = {"roles": {"finance": ["group:finance-team"]}}
    app.user = {"is_logged_in": True, "email": email, "name": email, "groups": groups}
    return app


def test_a_viewer_is_told_which_role_the_invoice_page_needs(request, monkeypatch):
    warehouse = published_warehouse(request)
    app = _signed_in(monkeypatch, warehouse, "vera@example.com", ["staff"]).run()
    app.switch_page("app_pages/billing_integrity.py").run()
    assert not app.exception
    assert "needs the **finance** role" in app.error[0].value
    assert "vera@example.com" in app.error[0].value
    assert not [header for header in app.subheader if header.value == "Invoice explainer"]

    app = _signed_in(monkeypatch, warehouse, "fiona@example.com", ["finance-team"]).run()
    app.switch_page("app_pages/billing_integrity.py").run()
    assert not app.exception
    assert not app.error
    assert [header for header in app.subheader if header.value == "Invoice explainer"]


def test_nobody_signed_in_sees_only_the_sign_in_screen(request, monkeypatch):
    warehouse = published_warehouse(request)
    app = _signed_in(monkeypatch, warehouse, "vera@example.com", [])
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception
    assert [button.label for button in app.button] == ["Sign in"]
    assert not app.metric and not app.get("download_button")


def test_a_server_started_with_sign_in_fails_closed_when_its_secrets_lose_auth(
    request, monkeypatch
):
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(published_warehouse(request)))
    monkeypatch.setenv("SEATSHIFT_SIGN_IN_REQUIRED", "1")  # set by `seatshift dashboard`
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30)
    app.secrets["seatshift"] = {"roles": {}}  # a secrets file without [auth]
    app.run()
    assert not app.exception
    assert "Sign-in is required on this server" in app.error[0].value
    assert not app.metric and not app.get("download_button")


def test_a_reader_on_no_list_sees_nothing_but_a_way_out(request, monkeypatch):
    app = _signed_in(monkeypatch, published_warehouse(request), "x@example.com", [])
    app.secrets["seatshift"] = {"roles": {"viewer": ["group:staff"]}}
    app.run()
    assert not app.exception
    assert "hold no role in this dashboard" in app.error[0].value
    assert [button.label for button in app.button] == ["Sign out"]
    assert not app.metric and not app.get("download_button")


def test_the_what_if_and_the_price_book_are_the_analysts(request, monkeypatch):
    warehouse = published_warehouse(request)
    price_book = "Download the edited price book (CSVs)"

    def labels(app: AppTest) -> list[str]:
        return [button.proto.label for button in app.get("download_button")]

    app = _signed_in(monkeypatch, warehouse, "vera@example.com", ["staff"]).run()
    app.switch_page("app_pages/shadow_billing.py").run()
    assert not app.exception
    captions = [caption.value for caption in app.caption]
    assert any("needs the analyst role" in caption for caption in captions)
    assert any("needs the finance role" in caption for caption in captions)  # accounts CSV
    assert price_book not in labels(app)

    app = _signed_in(monkeypatch, warehouse, "ana@example.com", ["staff"])
    app.secrets["seatshift"] = {"roles": {"analyst": ["ana@example.com"]}}
    app.run()
    app.switch_page("app_pages/shadow_billing.py").run()
    assert not app.exception
    assert not any("needs the analyst role" in caption.value for caption in app.caption)
    assert price_book in labels(app)
