"""One revenue figure, one number: for one segment at the as-of month, the MRR and the 12-month
figure that Seat health, the Projection page, the Migration plan page (AppTest), the plan's marts
and the decision pack show agree, on the committed sample and on a generated company.

The reference numbers are read straight from fct_account_month (MRR at the as-of month, summed
here) and fct_revenue_projection (the current model's middle scenario, months 1 .. 12), not through
the pages' queries; every page must print the same rounded figure, and the plan's marts must equal
them to the cent."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards._support import ENTRYPOINT, decision_pack, published_warehouse

SEATSHIFT = Path(sys.executable).with_name("seatshift")


def _money(value: float) -> str:
    # lib.format.money's rule, restated: compact above a thousand dollars, one decimal
    for step, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if round(abs(value) / step, 1) >= 1:
            return f"${value / step:,.1f}{suffix}"
    return f"${value:,.0f}" if value == int(value) else f"${value:,.2f}"


@pytest.fixture(params=["sample", "generated"])
def warehouse(request: pytest.FixtureRequest) -> Path:
    if request.param == "sample":
        return published_warehouse(request)
    return Path(request.getfixturevalue("generated_warehouse"))


def _reference(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        # the segment with the most paying accounts at the as-of month
        segment, mrr = conn.execute(
            """
            select segment, sum(mrr_usd)
            from marts.fct_account_month
            where month = (select max(month) from marts.fct_account_month) and mrr_usd > 0
            group by segment
            order by count(*) desc, segment
            limit 1
            """
        ).fetchone()
        month_zero, twelve = conn.execute(
            """
            select
                sum(projected_revenue_usd) filter (where months_ahead = 0),
                sum(projected_revenue_usd) filter (where months_ahead between 1 and 12)
            from marts.fct_revenue_projection
            where segment = ? and is_current_model and scenario = 'middle'
            """,
            [segment],
        ).fetchone()
        (model,) = conn.execute(
            "select min(price_model_id) from marts.fct_migration_plan where segment = ?",
            [segment],
        ).fetchone()
        plan_mrr, plan_twelve = conn.execute(
            """
            select
                (select sum(current_monthly_usd) from marts.fct_migration_plan
                 where segment = $1 and price_model_id = $2),
                (select sum(current_projected_revenue_usd) from marts.rpt_migration_plan_impact
                 where segment = $1 and price_model_id = $2 and months_ahead between 1 and 12)
            """,
            [segment, model],
        ).fetchone()
    return {
        "segment": segment,
        "model": model,
        "mrr": float(mrr),
        "month_zero": float(month_zero),
        "twelve": float(twelve),
        "plan_mrr": float(plan_mrr),
        "plan_twelve": float(plan_twelve),
    }


def _app(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return AppTest.from_file(ENTRYPOINT, default_timeout=90).run()


def _metric(app: AppTest, label: str):
    found = [element for element in app.metric if element.label == label]
    assert len(found) == 1, [element.label for element in app.metric]
    return found[0]


def test_mrr_and_twelve_months_are_one_number_everywhere(warehouse, monkeypatch, tmp_path):
    reference = _reference(warehouse)
    segment, model = reference["segment"], reference["model"]

    # the marts: month 0 of the projection and the plan's bills are the MRR; the plan's
    # "nobody moves" is the projection's current model, to the cent
    assert reference["month_zero"] == pytest.approx(reference["mrr"], abs=0.01)
    assert reference["plan_mrr"] == pytest.approx(reference["mrr"], abs=0.01)
    assert reference["plan_twelve"] == pytest.approx(reference["twelve"], abs=0.12)
    mrr_text, twelve_text = _money(reference["mrr"]), _money(reference["twelve"])

    app = _app(monkeypatch, warehouse)
    app.switch_page("app_pages/seat_health.py").run()
    app.multiselect(key="segments").set_value([segment]).run()
    assert not app.exception, app.exception
    assert _metric(app, "MRR").value == mrr_text

    app.switch_page("app_pages/projection.py").run()
    app.selectbox(key="projection_segment").set_value(segment).run()
    assert not app.exception, app.exception
    assert _metric(app, "Current model: MRR, next 12 months (middle)").value == twelve_text

    app.switch_page("app_pages/migration_plan.py").run()
    app.selectbox(key="plan_segment").set_value(segment).run()
    app.selectbox(key="plan_model").set_value(model).run()
    assert not app.exception, app.exception
    plan_metric = _metric(app, "Plan: MRR, next 12 months (middle)")
    assert plan_metric.delta == f"{twelve_text} if nobody moves"

    html = decision_pack(warehouse, tmp_path, segment, model)
    road_ahead = html[html.index("<h2>The road ahead: ") : html.index("<h2>Migration plan: ")]
    assert f"<td>{twelve_text} (" in road_ahead
    plan_section = html[html.index("<h2>Migration plan: ") :]
    assert f"{twelve_text} if nobody moves" in plan_section


def test_a_shared_link_may_name_the_segment_by_its_id(request, monkeypatch):
    """`?segments=mid_market` (the id, not the label) filters the pages as the label does."""
    warehouse = published_warehouse(request)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (mrr,) = conn.execute(
            """
            select sum(mrr_usd) from marts.fct_account_month
            where month = (select max(month) from marts.fct_account_month)
                and segment = 'mid_market'
            """
        ).fetchone()
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=90)
    app.query_params["segments"] = "mid_market"
    app.run()
    app.switch_page("app_pages/seat_health.py").run()
    assert not app.exception, app.exception
    assert app.multiselect(key="segments").value == ["mid_market"]
    assert _metric(app, "MRR").value == _money(float(mrr))
