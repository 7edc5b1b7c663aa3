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


def test_the_projection_page_and_the_pack_show_margin_and_cash_beside_the_mrr(sample, tmp_path):
    # The pack's table is margin.totals over fct_projection_margin_and_cash: the 24-month sums of
    # the middle scenario, worked here from the mart in SQL, must be the figures it prints.
    with duckdb.connect(str(sample), read_only=True) as conn:
        sums = conn.execute(
            """
            select price_model_id, sum(projected_revenue_usd), sum(projected_cost_usd),
                sum(projected_margin_usd),
                sum(projected_cash_usd) filter (where months_ahead <= 12)
            from marts.fct_projection_margin_and_cash
            where segment = 'mid_market' and scenario = 'middle' and months_ahead between 1 and 24
                and price_model_id in ('current_per_seat', 'hybrid_seat_plus_tokens')
            group by price_model_id
            """
        ).fetchall()
    assert len(sums) == 2
    html = decision_pack(sample, tmp_path / "pack", "mid_market", "hybrid_seat_plus_tokens")
    assert "Margin and cash: Mid-market" in html
    assert "Decline in the projection" in html
    for _, revenue, cost, gross_margin, cash in sums:
        assert cost > 0 and gross_margin == revenue - cost
        for figure in (revenue, cost, gross_margin, cash):
            assert f">{money(float(figure))}<" in html

    app = AppTest.from_file(ENTRYPOINT, default_timeout=120).run()
    app.switch_page("app_pages/projection.py").run()
    assert not app.exception
    headers = [header.value for header in app.subheader]
    assert "Cost to serve, margin and cash" in headers
    # an edited cost curve re-projects: every tier falling by 90% a year costs less than along
    # the build's curve (a third a year), so the current model's 24-month cost is lower
    with duckdb.connect(str(sample), read_only=True) as conn:
        tiers = [
            row[0]
            for row in conn.execute("select model from marts.fct_model_cost_curve").fetchall()
        ]
    built = _cost_column(app)
    for tier in tiers:
        app.number_input(key=f"projection_cost_decline_{tier}").set_value(90.0)
    app.run()
    assert not app.exception
    assert "Cost to serve, margin and cash (edited)" in [h.value for h in app.subheader]
    edited = _cost_column(app)
    assert set(edited) == set(built)
    for model, cost in edited.items():
        assert cost < built[model], model


def _cost_column(app: AppTest) -> dict[str, float]:
    """The margin table's 24-month cost to serve per model, as the page prints it ($1.2M)."""
    table = next(f.value for f in app.dataframe if "Cost to serve, 24 mo." in f.value.columns)
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}

    def value(text: str) -> float:
        text = text.replace("$", "").replace(",", "")
        return float(text[:-1]) * scale[text[-1]] if text[-1] in scale else float(text)

    return dict(zip(table["Model"], table["Cost to serve, 24 mo."].map(value), strict=True))
