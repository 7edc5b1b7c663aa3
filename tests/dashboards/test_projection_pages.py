"""The Projection and Migration plan pages and the decision pack, against the real sample
warehouse: the figures they show equal the marts (fct_revenue_projection and its backtest,
fct_migration_plan), summed here independently of the page's queries, and the plan page offers
the paper invoice."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards._support import ENTRYPOINT, decision_pack, published_warehouse

SEATSHIFT = Path(sys.executable).with_name("seatshift")


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def open_page(monkeypatch: pytest.MonkeyPatch, warehouse: Path, page: str) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def metric(app: AppTest, label: str):
    found = [element for element in app.metric if element.label == label]
    assert len(found) == 1, [element.label for element in app.metric]
    return found[0]


def _money(value: float) -> str:
    # lib.format.money's rule, restated: compact above a thousand dollars, one decimal
    for step, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if round(abs(value) / step, 1) >= 1:
            return f"${value / step:,.1f}{suffix}"
    return f"${value:,.0f}" if value == int(value) else f"${value:,.2f}"


def test_projection_page_shows_the_marts_totals_and_backtest_error(sample, monkeypatch):
    app = open_page(monkeypatch, sample, "app_pages/projection.py")
    with duckdb.connect(str(sample), read_only=True) as conn:
        middle_12, worst_12, best_12 = conn.execute(
            """
            select
                sum(projected_revenue_usd) filter (where scenario = 'middle'),
                sum(projected_revenue_usd) filter (where scenario = 'worst'),
                sum(projected_revenue_usd) filter (where scenario = 'best')
            from marts.fct_revenue_projection
            where segment = 'all' and is_current_model and months_ahead between 1 and 12
            """
        ).fetchone()
        (mape,) = conn.execute(
            "select max(backtest_mape) from marts.fct_revenue_projection_backtest"
            " where segment = 'all'"
        ).fetchone()
    shown = metric(app, "Current model: MRR, next 12 months (middle)")
    assert shown.value == _money(float(middle_12))
    assert shown.delta == f"{_money(float(worst_12))} .. {_money(float(best_12))}"
    assert worst_12 <= middle_12 <= best_12
    expected_mape = "—" if mape is None else f"{float(mape) * 100:.1f}%"
    assert metric(app, "Backtest error (MAPE)").value == expected_mape


def test_migration_plan_page_shows_the_plan_and_offers_the_paper_invoice(sample, monkeypatch):
    app = open_page(monkeypatch, sample, "app_pages/migration_plan.py")
    model = app.selectbox(key="plan_model").value
    with duckdb.connect(str(sample), read_only=True) as conn:
        accounts, credits, shocked = conn.execute(
            """
            select count(*), sum(transition_credit_total_usd),
                count(*) filter (where is_bill_shock_without_credit)
            from marts.fct_migration_plan where price_model_id = ?
            """,
            [model],
        ).fetchone()
    assert metric(app, "Accounts in the plan").value == f"{accounts:,}"
    assert metric(app, "Transition credits, whole plan").value == _money(float(credits))
    assert metric(app, "Shocked at the switch, without the credit").value == f"{shocked:,}"
    # the plan offered as an option: only its accounts that would take the proposal follow it
    with duckdb.connect(str(sample), read_only=True) as conn:
        plan_12, choice_12, choosing = conn.execute(
            """
            select sum(plan_projected_revenue_usd), sum(plan_choice_projected_revenue_usd),
                max(choosing_accounts)
            from marts.rpt_migration_plan_impact
            where segment = 'all' and price_model_id = ? and months_ahead between 1 and 12
            """,
            [model],
        ).fetchone()
    assert metric(app, "Plan: MRR, next 12 months (middle)").value == _money(float(plan_12))
    under_choice = metric(app, "Plan under choice: MRR, next 12 months (middle)")
    assert under_choice.value == _money(float(choice_12))
    assert under_choice.delta == f"{choosing:,} of {accounts:,} take the proposal"
    assert 0 < choosing < accounts, "some accounts of the plan would refuse the proposal"
    labels = [button.label for button in app.get("download_button")]
    assert "Download the paper invoice" in labels
    assert "Download CSV" in labels
    # a running pilot: its accounts stay on the proposal (wave 0), its readout's are held back
    with duckdb.connect(str(sample), read_only=True) as conn:
        on_proposal, held = conn.execute(
            """
            select count(*) filter (where is_on_proposal), count(held_until_month)
            from marts.fct_migration_plan where price_model_id = ?
            """,
            [model],
        ).fetchone()
    captions = " ".join(caption.value for caption in app.caption)
    assert held > 0, "the sample's control group is held in every proposal's plan"
    assert f" {held:,} accounts a pilot's readout follows" in captions
    assert ("Wave 0 is the running pilot" in captions) == (on_proposal > 0)


def test_decision_pack_carries_the_projection_and_the_plans_waves(sample, tmp_path):
    with duckdb.connect(str(sample), read_only=True) as conn:
        segment, model = conn.execute(
            "select segment, price_model_id from marts.fct_migration_plan"
            " order by segment, price_model_id limit 1"
        ).fetchone()
        middle, worst, best = conn.execute(
            """
            select
                sum(projected_revenue_usd) filter (where scenario = 'middle'),
                sum(projected_revenue_usd) filter (where scenario = 'worst'),
                sum(projected_revenue_usd) filter (where scenario = 'best')
            from marts.fct_revenue_projection
            where segment = ? and is_current_model and months_ahead between 1 and 12
            """,
            [segment],
        ).fetchone()
        waves = conn.execute(
            "select wave, count(*) from marts.fct_migration_plan"
            " where segment = ? and price_model_id = ? group by wave order by wave",
            [segment, model],
        ).fetchall()
    html = decision_pack(sample, tmp_path, segment, model)
    assert "<h2>The road ahead: " in html and "<h2>Migration plan: " in html
    totals = f"{_money(float(middle))} ({_money(float(worst))} .. {_money(float(best))})"
    assert totals in html
    section = html[html.index("<h2>Migration plan: ") :]
    wave_cells = [f"<tr><td>{wave}</td>" for wave, _ in waves]
    assert all(cell in section for cell in wave_cells)
    assert len(waves) >= 1
    # the plan with the running pilot in it: its wave 0 and the accounts held for its readout,
    # said as the Migration plan page says them
    with duckdb.connect(str(sample), read_only=True) as conn:
        segment, model, on_proposal, held = conn.execute(
            """
            select segment, price_model_id, count(*) filter (where is_on_proposal),
                count(held_until_month)
            from marts.fct_migration_plan group by all order by 3 desc, 4 desc limit 1
            """
        ).fetchone()
    assert on_proposal > 0 and held > 0
    html = decision_pack(sample, tmp_path / "piloted", segment, model)
    section = html[html.index("<h2>Migration plan: ") :]
    assert f"Wave 0 is the running pilot: {on_proposal:,} accounts already on the" in section
    assert f" {held:,} accounts a pilot&#x27;s readout follows" in section


def test_migration_plan_says_where_the_proposal_fails_and_when_its_pilot_should_roll_back(
    sample, monkeypatch
):
    # The plan of every segment moved accounts to a proposal that fails the trigger in some of
    # them, and planned later waves while its pilot had crossed a rollback trigger, without a
    # word. The page now says both, as the Overview and the Pilot page judge them.
    app = open_page(monkeypatch, sample, "app_pages/migration_plan.py")
    model = app.selectbox(key="plan_model").value
    with duckdb.connect(str(sample), read_only=True) as conn:
        failing = [
            segment
            for (segment,) in conn.execute(
                """
                select segment from marts.fct_migration_triggers
                where price_model_id = ? and segment != 'all' and not is_proposal_viable
                    and month = (select max(month) from marts.fct_migration_triggers)
                order by segment
                """,
                [model],
            ).fetchall()
        ]
        (crossed,) = conn.execute(
            "select count(*) from marts.fct_pilot_rollback_triggers"
            " where pilot_model_id = ? and is_crossed",
            [model],
        ).fetchone()
        labels = dict(
            conn.execute(
                "select metric, label from marts.rpt_metric_definitions"
                " where metric like 'segment_%'"
            ).fetchall()
        )
    assert failing, "the sample's recommended proposal fails some segment"
    warnings = [warning.value for warning in app.warning]
    (said,) = [text for text in warnings if "fails the trigger's guardrails in" in text]
    assert all(labels[f"segment_{segment}"] in said for segment in failing)
    errors = [error.value for error in app.error if "crossed a rollback trigger" in error.value]
    assert len(errors) == (1 if crossed else 0)


def test_migration_plan_says_what_shocked_at_the_switch_counts(sample, monkeypatch):
    # Regression: the "Shocked at the switch" figures' help was the bill-shock definition (an
    # invoice against the average of the previous three), while they count the proposal's bill of
    # the as-of month against the account's MRR by the bill-shock thresholds (fct_migration_plan).
    with duckdb.connect(str(sample), read_only=True) as connection:
        (said,) = connection.execute(
            "select definition from marts.rpt_metric_definitions "
            "where metric = 'migration_shock_at_switch'"
        ).fetchone()
    assert "MRR" in said and "bill_shock_ratio" in said and "bill_shock_min_usd" in said
    assert "previous three" not in said

    app = open_page(monkeypatch, sample, "app_pages/migration_plan.py")

    for label in (
        "Shocked at the switch, without the credit",
        "Shocked at the switch, with the credit",
    ):
        assert metric(app, label).help == said
    (waves,) = [table for table in app.dataframe if "shocked_at_switch" in table.value.columns]
    config = json.loads(waves.proto.columns)
    assert config["shocked_at_switch"]["help"] == said
    assert config["shocked_without_credit"]["help"] == said
