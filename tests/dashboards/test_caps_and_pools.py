"""Spend caps, prepaid pools and model costs where people read them (AppTest, `seatshift report` and
`seatshift paper-invoice` against the real sample warehouse): the Shadow billing page draws both
sections without an error, the decision pack states each pool proposal's liability and breakage as
fct_prepaid_pool_monthly holds them, and a pool account's paper invoice gives its own alert
months from fct_prepaid_pool_alerts; the Value shift page and the pack give each LLM tier's
yearly cost decline as fct_model_cost_curve measures it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib.format import money, percent
from tests.conftest import SEATSHIFT
from tests.dashboards._support import ENTRYPOINT, decision_pack, published_warehouse

SHADOW_BILLING = "app_pages/shadow_billing.py"


@pytest.fixture
def sample(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = published_warehouse(request)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return warehouse


def test_shadow_billing_draws_the_spend_caps_and_the_prepaid_pools(sample):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=90).run()
    app.switch_page(SHADOW_BILLING).run()
    assert not app.exception
    subheaders = [header.value for header in app.subheader]
    assert "Spend caps" in subheaders
    assert "Prepaid pools: alerts, liability and breakage" in subheaders


def test_the_pack_states_each_pools_liability_and_breakage(sample, tmp_path):
    with duckdb.connect(str(sample), read_only=True) as conn:
        rows = conn.execute(
            """
            select price_model_id, month, liability_usd, breakage_usd
            from marts.fct_prepaid_pool_monthly where segment = 'all'
            order by price_model_id, month
            """
        ).df()
    assert not rows.empty
    html = decision_pack(sample, tmp_path / "pack", "mid_market", "hybrid_seat_plus_tokens")
    assert "Prepaid pools: alerts, liability and breakage" in html
    assert "Spend caps: revenue given up, usage blocked, bill shock avoided" in html
    for _, model_rows in rows.groupby("price_model_id"):
        latest = model_rows.iloc[-1]
        assert f">{money(latest['liability_usd'])}<" in html
        total = float(model_rows["breakage_usd"].astype("float64").sum())
        assert f">{money(total)}<" in html


def test_a_pool_accounts_paper_invoice_gives_its_own_alert_months(sample, tmp_path):
    with duckdb.connect(str(sample), read_only=True) as conn:
        found = conn.execute(
            """
            select alerts.account_id, alerts.price_model_id, alerts.first_month,
                alerts.latest_month
            from marts.fct_prepaid_pool_alerts as alerts
            where alerts.alert_pct = 70
            order by alerts.months_reached desc, alerts.account_id
            limit 1
            """
        ).fetchall()
    assert found, "no account of the sample reaches a pool alert"
    account_id, model, first, latest = found[0]
    completed = subprocess.run(
        [str(SEATSHIFT), "paper-invoice", "--account", account_id, "--price-model", model,
         "--out", str(tmp_path), "--warehouse", str(sample)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    (invoice,) = tmp_path.glob("*.html")
    html = invoice.read_text(encoding="utf-8")
    assert "Prepaid pool alerts" in html
    first, latest = pd.Timestamp(first), pd.Timestamp(latest)
    when = f"{first:%b %Y}" if first == latest else f"first {first:%b %Y}, latest {latest:%b %Y}"
    assert f"70%: {when}" in html


def test_the_model_cost_curve_is_on_the_value_shift_page_and_in_the_pack(sample, tmp_path):
    with duckdb.connect(str(sample), read_only=True) as conn:
        curve = conn.execute(
            "select model, yearly_decline from marts.fct_model_cost_curve order by model"
        ).fetchall()
    # the shipped price list cuts every tier's price by a third a year after its first price
    assert curve and all(decline > 0.3 for _, decline in curve)
    app = AppTest.from_file(ENTRYPOINT, default_timeout=90).run()
    app.switch_page("app_pages/value_shift.py").run()
    assert not app.exception
    assert "Model costs over time" in [header.value for header in app.subheader]
    html = decision_pack(sample, tmp_path / "pack", "mid_market", "hybrid_seat_plus_tokens")
    assert "Model costs over time" in html
    for model, decline in curve:
        assert f"<td>{model}</td>" in html
        assert f">{percent(decline)}<" in html
