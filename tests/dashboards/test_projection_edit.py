"""The Projection page's assumptions, edited in place: the re-projection runs the
build's own projection SQL (rpt_projection_sql) and rating SQL (rpt_rating_sql) over copies of
its inputs, so with the settings in force it is fct_revenue_projection and its backtest row for
row, and an edit moves the figures the way the projection's definition (docs block
revenue_projection) says it must."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import queries, road_ahead
from dashboards.lib.format import money
from dashboards.lib.queries import projection as projection_queries
from tests.dashboards._support import ENTRYPOINT, published_warehouse, setting_in_force
from tests.warehouse.test_projection import _independent_churn

PAGE = "app_pages/projection.py"
CHURN = "projection_churn_multiplier"
GROWTH = "projection_growth_multiplier"
SPREAD = "projection_scenario_spread"
SHOCK = "projection_shock_churn"
NOTHING_MOVES = ((CHURN, 0.0), (GROWTH, 0.0), (SHOCK, 0.0))


@pytest.fixture
def sample(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = published_warehouse(request)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return warehouse


def _marts(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return (
            connection.execute(
                "select * from marts.fct_revenue_projection order by revenue_projection_id"
            ).df(),
            connection.execute(
                "select * from marts.fct_revenue_projection_backtest order by backtest_id"
            ).df(),
            connection.execute(
                "select * from marts.fct_projection_rates order by projection_rate_id"
            ).df(),
        )


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key).reset_index(drop=True)


@pytest.mark.parametrize("warehouse_fixture", ["sample_warehouse", "generated_warehouse"])
def test_re_projection_with_the_settings_in_force_is_the_build_row_for_row(
    warehouse_fixture, request, monkeypatch
):
    warehouse = Path(request.getfixturevalue(warehouse_fixture))
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    projection, backtest, rates = _marts(warehouse)

    result = queries.re_projection(())

    assert len(projection) > 0 and len(backtest) > 0
    # the projection under customer choice is among the columns compared, and not a copy of the
    # forced switch: some proposal's choosers change what it brings in
    proposals = projection[~projection["is_current_model"]]
    assert (proposals["projected_choice_revenue_usd"] != proposals["projected_revenue_usd"]).any()
    assert "projected_choice_revenue_usd" in result["projection"]
    # every column, every row, the same values and types: one SQL, two callers
    pd.testing.assert_frame_equal(
        _sorted(result["projection"], "revenue_projection_id"), projection
    )
    pd.testing.assert_frame_equal(_sorted(result["backtest"], "backtest_id"), backtest)
    applied = result["rates"].assign(
        projection_rate_id=lambda f: f["segment"] + "|" + f["scenario"] + "|" + f["metric"]
    )
    merged = rates.merge(applied, on="projection_rate_id", suffixes=("", "_page"))
    assert len(merged) == len(rates)
    for column in ("monthly_churn_rate", "monthly_growth_rate"):
        assert (merged[column] == merged[f"{column}_page"]).all(), column
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        margin = connection.execute(
            "select * from marts.fct_projection_margin_and_cash order by projection_margin_id"
        ).df()
    assert len(margin) == len(projection)
    pd.testing.assert_frame_equal(_sorted(result["margin"], "projection_margin_id"), margin)


def test_the_cost_curve_edited_lowers_the_cost_by_its_decline_and_leaves_the_mrr(sample):
    # With nothing growing or churning, a tier's cost k months ahead is its cost at the origin x
    # (1 - d)^(k / 12): every tier falling by 0.36 a year costs 0.64 of month 0 at month 12 and
    # 0.8 at month 6 (0.64^0.5); with no decline at all it stays at month 0's. The MRR does not
    # move with the cost curve.
    with duckdb.connect(str(sample), read_only=True) as connection:
        tiers = [
            row[0]
            for row in connection.execute("select model from marts.fct_model_cost_curve").fetchall()
        ]
    flat = queries.re_projection(NOTHING_MOVES, tuple((tier, 0.0) for tier in tiers))["margin"]
    falling = queries.re_projection(NOTHING_MOVES, tuple((tier, 0.36) for tier in tiers))["margin"]

    key = ["segment", "price_model_id", "scenario", "months_ahead"]
    both = flat.merge(falling, on=key, suffixes=("_flat", "_falling"))
    assert len(both) == len(flat) > 0
    assert (both["projected_revenue_usd_flat"] == both["projected_revenue_usd_falling"]).all()
    origin = both[both["months_ahead"] == 0].set_index(key[:3])["projected_cost_usd_flat"]
    assert (origin > 0).any(), "the sample's base uses tokens"
    for months, factor in ((0, 1.0), (6, 0.8), (12, 0.64), (24, 0.64**2)):
        rows = both[both["months_ahead"] == months].set_index(key[:3])
        assert (rows["projected_cost_usd_flat"] == origin.loc[rows.index]).all(), months
        for index, cost in rows["projected_cost_usd_falling"].items():
            assert float(cost) == pytest.approx(float(origin[index]) * factor, abs=0.0002), index


def test_with_nothing_moving_twelve_months_of_cash_are_twelve_months_of_mrr(sample):
    # Cash moves money in time, never creates it: an annual plan pays 12 x its MRR once in any
    # twelve consecutive months, usage arrives a month late (of the same MRR when nothing moves),
    # so months 1 .. 12 of cash add up to months 1 .. 12 of MRR for every model and segment.
    margin = queries.re_projection(NOTHING_MOVES)["margin"]
    middle = margin[(margin["scenario"] == "middle") & margin["months_ahead"].between(1, 12)]
    sums = middle.groupby(["segment", "price_model_id"])[
        ["projected_revenue_usd", "projected_cash_usd"]
    ].sum()
    assert len(sums) > 0
    for index, row in sums.iterrows():
        assert float(row["projected_cash_usd"]) == pytest.approx(
            float(row["projected_revenue_usd"]), abs=0.01
        ), index
    current = margin[margin["is_current_model"] & (margin["segment"] == "all")]
    assert current["projected_cash_usd"].nunique() > 1, "annual plans make the cash line lumpy"


def test_an_edit_re_projects_while_the_build_stays_as_it_was(sample):
    projection, _, _ = _marts(sample)
    edited = queries.re_projection(((CHURN, 2.0),))["projection"]
    unedited = queries.re_projection(())["projection"]

    moved = edited.merge(projection, on="revenue_projection_id", suffixes=("", "_built"))
    later = moved[moved["months_ahead"] >= 1]
    assert (later["projected_revenue_usd"] != later["projected_revenue_usd_built"]).any()
    month_zero = moved[moved["months_ahead"] == 0]
    assert (month_zero["projected_revenue_usd"] == month_zero["projected_revenue_usd_built"]).all()
    # the cached copy of the inputs was not changed by the edit
    pd.testing.assert_frame_equal(_sorted(unedited, "revenue_projection_id"), projection)


def test_twice_the_churn_without_growth_decays_by_twice_the_measured_churn(sample):
    # The definition: the current model's month k is month 0 x (1 - monthly churn)^k when nothing
    # grows; with the churn multiplier 2 and no spread the churn is 2 x the measured one, which
    # _independent_churn measures in Python from fct_account_month.
    with duckdb.connect(str(sample), read_only=True) as connection:
        churn = _independent_churn(connection)
    result = queries.re_projection(((CHURN, 2.0), (GROWTH, 0.0), (SPREAD, 0.0)))["projection"]
    rows = result[
        result["is_current_model"] & (result["scenario"] == "middle") & (result["segment"] != "all")
    ]
    month_zero = rows[rows["months_ahead"] == 0].set_index("segment")["projected_revenue_usd"]
    checked = 0
    for row in rows.itertuples():
        expected = (
            month_zero[row.segment] * (1 - 2 * churn.get(row.segment, 0.0)) ** row.months_ahead
        )
        assert float(row.projected_revenue_usd) == pytest.approx(expected, abs=0.01), row
        checked += 1
    assert checked == 25 * len(month_zero)
    assert any(0 < rate < 0.5 for rate in churn.values()), "the sample has churn to double"


def test_zero_churn_growth_and_shock_churn_give_a_flat_re_projection(sample):
    projection, _, _ = _marts(sample)
    later = projection[projection["months_ahead"] >= 1].merge(
        projection[projection["months_ahead"] == 0],
        on=["segment", "price_model_id", "scenario"],
        suffixes=("", "_zero"),
    )
    assert (later["projected_revenue_usd"] != later["projected_revenue_usd_zero"]).any(), (
        "the build's own projection moves, so flatness below is the edit's doing"
    )

    flat = queries.re_projection(NOTHING_MOVES)["projection"]

    month_zero = flat[flat["months_ahead"] == 0]
    joined = flat.merge(
        month_zero, on=["segment", "price_model_id", "scenario"], suffixes=("", "_zero")
    )
    assert len(joined) == len(flat) == len(projection)
    assert (joined["projected_revenue_usd"] == joined["projected_revenue_usd_zero"]).all()
    assert (joined["projected_accounts"] == joined["base_accounts"]).all()


def test_with_nothing_moving_choice_is_each_account_on_the_option_it_takes(sample):
    """Flat (no churn, growth or shock churn), every month under choice is month 0's bills with
    each account on the option it takes: the proposal's shadow revenue of the as-of month for the
    accounts fct_customer_choice says would take it, their MRR for the others. Summed here in
    pandas from fct_account_month, fct_shadow_invoice and fct_customer_choice."""
    with duckdb.connect(str(sample), read_only=True) as connection:
        expected = connection.execute(
            """
            with as_of as (select max(month) as month from marts.fct_account_month),
            base as (
                select months.account_id, months.segment, months.mrr_usd
                from marts.fct_account_month as months
                where months.month = (select month from as_of) and months.mrr_usd > 0
            ),
            shadow as (
                select account_id, price_model_id, shadow_usd
                from marts.fct_shadow_invoice
                where month = (select month from as_of)
            )
            select choices.price_model_id, base.segment, base.account_id, base.mrr_usd,
                coalesce(shadow.shadow_usd, 0) as shadow_usd, choices.is_choosing_proposal
            from base
            inner join marts.fct_customer_choice as choices on base.account_id = choices.account_id
            left join shadow
                on base.account_id = shadow.account_id
                    and choices.price_model_id = shadow.price_model_id
            """
        ).df()
    expected["chosen"] = [
        float(shadow) if choosing else float(mrr)
        for shadow, mrr, choosing in zip(
            expected["shadow_usd"],
            expected["mrr_usd"],
            expected["is_choosing_proposal"],
            strict=True,
        )
    ]
    by_segment = expected.groupby(["price_model_id", "segment"])["chosen"].sum()
    by_segment = pd.concat(
        [
            by_segment,
            expected.groupby("price_model_id")["chosen"].sum().rename(lambda m: (m, "all")),
        ]
    )
    choosers = expected.groupby("price_model_id")["is_choosing_proposal"].sum()

    flat = queries.re_projection(NOTHING_MOVES)["projection"]
    proposals = flat[~flat["is_current_model"]]
    assert len(proposals) == len(by_segment) * 3 * 25  # every segment, scenario and month
    for row in proposals.itertuples():
        assert float(row.projected_choice_revenue_usd) == pytest.approx(
            by_segment[(row.price_model_id, row.segment)], abs=0.01
        ), row
        if row.segment == "all":
            assert row.choosing_accounts == choosers[row.price_model_id]
    assert (expected["chosen"] != expected["shadow_usd"].astype(float)).any(), (
        "some account stays, so choice differs from the forced switch"
    )


def _open(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=120).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _metric(app: AppTest, label: str):
    found = [element for element in app.metric if element.label == label]
    assert len(found) == 1, [element.label for element in app.metric]
    return found[0]


def _assumption(app: AppTest, name: str):
    return app.number_input(key=f"projection_assumption_{name}")


TWELVE_MONTHS = "Current model: MRR, next 12 months (middle)"


def test_analyst_edits_the_churn_on_the_page_and_sees_the_numbers_move_then_resets(
    sample, monkeypatch
):
    app = _open(monkeypatch, sample)
    built = _metric(app, TWELVE_MONTHS).value
    assert not [element for element in app.metric if element.label.endswith("(edited)")]
    assert _assumption(app, CHURN).value == 1.0  # the value in force (rpt_settings)
    assert "churn" in _assumption(app, CHURN).help.lower()  # its description, from the build

    _assumption(app, CHURN).set_value(3.0)
    app.run()

    assert not app.exception, app.exception
    edited = _metric(app, f"{TWELVE_MONTHS} (edited)")
    assert _metric(app, TWELVE_MONTHS).value == built  # the build's, beside the edit
    assert edited.value != built
    assert edited.delta.startswith(f"as built {built}")
    assert any(element.value.startswith("**Edited**") for element in app.info)

    app.button(key="projection_reset").click().run()

    assert _assumption(app, CHURN).value == 1.0
    assert not [element for element in app.metric if element.label.endswith("(edited)")]


def test_with_churn_growth_and_shock_churn_at_zero_the_page_shows_a_flat_projection(
    sample, monkeypatch
):
    with duckdb.connect(str(sample), read_only=True) as connection:
        (month_zero,) = connection.execute(
            """
            select projected_revenue_usd from marts.fct_revenue_projection
            where segment = 'all' and is_current_model and scenario = 'middle'
                and months_ahead = 0
            """
        ).fetchone()
    app = _open(monkeypatch, sample)
    for name, value in NOTHING_MOVES:
        _assumption(app, name).set_value(value)
    app.run()

    assert not app.exception, app.exception
    # flat: each of the next 12 months bills what month 0 billed, in every scenario
    flat = money(12 * float(month_zero))
    edited = _metric(app, f"{TWELVE_MONTHS} (edited)")
    assert edited.value == flat
    assert edited.delta.endswith(f"{flat} .. {flat}")


def test_only_the_assumptions_that_moved_count_as_edited():
    in_force = {CHURN: 1.0, GROWTH: 1.0, SHOCK: 0.25}
    assert road_ahead.edited_assumptions({CHURN: 1.0, GROWTH: 1.0, SHOCK: 0.25}, in_force) == ()
    assert road_ahead.edited_assumptions({CHURN: 1.5, GROWTH: 1.0, SHOCK: 0.0}, in_force) == (
        (CHURN, 1.5),
        (SHOCK, 0.0),
    )


def test_re_projected_totals_sum_months_one_to_the_horizon():
    # one model, middle scenario, months 0..3 at 100, 10, 20, 30: month 0 has happened, so the
    # 2-month total is 10 + 20 = 30 and the 3-month one 10 + 20 + 30 = 60
    projection = pd.DataFrame(
        {
            "segment": "all",
            "price_model_id": "current",
            "is_current_model": True,
            "scenario": "middle",
            "months_ahead": [0, 1, 2, 3],
            "projected_revenue_usd": [100.0, 10.0, 20.0, 30.0],
            "backtest_mape": 0.1,
            "is_backtest_carried": False,
        }
    )
    totals = road_ahead.totals_of(projection, "all", (2, 3), {"current": "Per seat"})
    assert totals["horizon_months"].tolist() == [2, 3]
    assert totals["projected_revenue_usd"].tolist() == [30.0, 60.0]
    assert road_ahead.total_of(totals, "current", "middle", 3) == 60.0
    assert set(totals["name"]) == {"Per seat"}


def test_re_projected_totals_under_choice_sum_months_one_to_the_horizon():
    # a proposal's months 0..3 at 100, 10, 20, 30 forced and 100, 5, 10, 15 under choice (2 of 4
    # accounts take it): under choice the 2-month total is 5 + 10 = 15, the 3-month one
    # 5 + 10 + 15 = 30; forced 30 and 60 as above
    projection = pd.DataFrame(
        {
            "segment": "all",
            "price_model_id": "p1",
            "is_current_model": False,
            "scenario": "middle",
            "months_ahead": [0, 1, 2, 3],
            "projected_revenue_usd": [100.0, 10.0, 20.0, 30.0],
            "projected_choice_revenue_usd": [100.0, 5.0, 10.0, 15.0],
            "choosing_accounts": 2,
            "base_accounts": 4,
            "backtest_mape": 0.1,
            "is_backtest_carried": True,
        }
    )
    totals = road_ahead.totals_of(projection, "all", (2, 3), {"p1": "Proposal"})
    assert road_ahead.total_of(totals, "p1", "middle", 3) == 60.0
    assert road_ahead.choice_total_of(totals, "p1", 2) == 15.0
    assert road_ahead.choice_total_of(totals, "p1", 3) == 30.0
    assert road_ahead.choosing_text(totals, "p1") == "2 of 4 accounts take it"
    table = road_ahead.totals_table(totals)
    assert table[["choice_2m", "choice_3m"]].iloc[0].tolist() == [15.0, 30.0]


def test_new_business_is_a_separate_line_the_analyst_switches_on(sample, monkeypatch):
    with duckdb.connect(str(sample), read_only=True) as connection:
        # the window's new logos' starting MRR, a month: the new-business line's month 1
        (new_mrr_per_month,) = connection.execute(
            """
            with window_months as (
                select distinct month from marts.fct_account_month
                where month > (select max(month) from marts.fct_account_month) - interval 12 month
            )
            select sum(mrr_usd) filter (where mrr_movement = 'new')
                / (select count(*) from window_months)
            from marts.fct_account_month
            where month in (select month from window_months)
            """
        ).fetchone()
        line = connection.execute(
            "select months_ahead, projected_new_revenue_usd from marts.fct_projection_new_business"
            " where segment = 'all' order by months_ahead"
        ).fetchall()
    assert float(new_mrr_per_month) > 0, "the sample wins new logos to carry forward"
    assert float(line[0][1]) == 0
    assert float(line[1][1]) == pytest.approx(float(new_mrr_per_month), abs=0.01)
    twelve = sum(float(value) for months_ahead, value in line if 1 <= months_ahead <= 12)

    app = _open(monkeypatch, sample)
    built = [(element.label, element.value) for element in app.metric]
    assert not [label for label, _ in built if label.startswith("New business")]

    app.toggle(key="projection_new_business").set_value(True).run()

    assert not app.exception, app.exception
    assert _metric(app, "New business, next 12 months").value == money(twelve)
    # drawn beside the base, never added to it: the base's figures have not moved
    assert [
        (element.label, element.value)
        for element in app.metric
        if not element.label.startswith("New business")
    ] == built


@pytest.mark.browser
def test_analyst_edits_an_assumption_and_resets_it_in_a_real_browser(dashboard_url, tmp_path):
    from playwright.sync_api import expect

    from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page, wait_for_app_run

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(f"{dashboard_url}/projection", wait_until="domcontentloaded")
        churn = page.get_by_role("spinbutton", name="Churn multiplier")
        expect(churn).to_be_visible(timeout=WAIT_MS)
        wait_for_app_run(page)
        assert "(edited)" not in page.locator("[data-testid='stMain']").first.inner_text()

        churn.fill("2.00")
        churn.press("Enter")
        expect(
            page.get_by_text("Current model: MRR, next 12 months (middle) (edited)")
        ).to_be_visible(timeout=WAIT_MS)
        wait_for_app_run(page)
        body = page.locator("[data-testid='stMain']").first.inner_text()
        assert "churn multiplier 1 → 2" in body
        assert "Traceback" not in body
        page.screenshot(path=str(ARTIFACTS / "projection_edited.png"))
        page.set_viewport_size({"width": 1280, "height": 4200})
        page.wait_for_timeout(1_000)
        page.screenshot(path=str(ARTIFACTS / "projection_edited_full.png"))
        page.set_viewport_size({"width": 1280, "height": 800})

        page.locator(".st-key-projection_reset").get_by_role("button", name="Reset").first.click()
        expect(
            page.get_by_text("Current model: MRR, next 12 months (middle) (edited)")
        ).to_have_count(0, timeout=WAIT_MS)
        wait_for_app_run(page)
        expect(churn).to_have_value("1.00")


CHOICE_TWELVE_MONTHS = "Projected under choice: MRR, next 12 months (middle)"


@pytest.mark.browser
def test_revenue_lead_reads_the_projection_under_choice_in_a_real_browser(
    dashboard_url, tmp_path, sample
):
    """The Projection page opens on the proposal the Overview recommends and states, beside its
    forced switch, its MRR under customer choice over the next 12 months: the sum of
    fct_revenue_projection's projected_choice_revenue_usd over months 1 .. 12 (middle, every
    segment)."""
    from playwright.sync_api import expect

    from dashboards.lib import decision
    from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page, wait_for_app_run

    recommended = decision.recommended_proposal(queries.migration_triggers(), "all")
    assert recommended is not None
    with duckdb.connect(str(sample), read_only=True) as connection:
        forced, chosen, choosing, base = connection.execute(
            """
            select sum(projected_revenue_usd), sum(projected_choice_revenue_usd),
                max(choosing_accounts), max(base_accounts)
            from marts.fct_revenue_projection
            where segment = 'all' and price_model_id = ? and scenario = 'middle'
                and months_ahead between 1 and 12
            """,
            [recommended],
        ).fetchone()
    assert money(float(forced)) != money(float(chosen)), "choice differs from the forced switch"

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.set_viewport_size({"width": 1280, "height": 2400})
        page.goto(f"{dashboard_url}/projection", wait_until="domcontentloaded")
        card = page.locator("[data-testid='stMetric']").filter(has_text=CHOICE_TWELVE_MONTHS)
        expect(card).to_be_visible(timeout=WAIT_MS)
        wait_for_app_run(page)
        card.scroll_into_view_if_needed()
        value = card.locator("[data-testid='stMetricValue']").inner_text().strip()
        delta = card.locator("[data-testid='stMetricDelta']").inner_text().strip()
        forced_card = page.locator("[data-testid='stMetric']").filter(
            has_text="Forced switch: MRR, next 12 months (middle)"
        )
        forced_value = forced_card.locator("[data-testid='stMetricValue']").inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "projection_under_choice.png"))
    assert value == money(float(chosen))
    assert forced_value == money(float(forced))
    assert delta == f"{int(choosing):,} of {int(base):,} accounts take it"


def test_the_choice_chart_draws_the_proposal_forced_and_offered_beside_the_current_model():
    # middle scenario only: per seat 100 then 90; p1 forced 80 then 70, under choice 95 then 85
    projection = pd.DataFrame(
        {
            "price_model_id": ["seat", "seat", "p1", "p1", "p1"],
            "scenario": ["middle", "middle", "middle", "middle", "best"],
            "months_ahead": [0, 1, 0, 1, 1],
            "month": pd.to_datetime(["2026-02-01", "2026-03-01"] * 2 + ["2026-03-01"]),
            "projected_revenue_usd": [100.0, 90.0, 80.0, 70.0, 999.0],
            "projected_choice_revenue_usd": [100.0, 90.0, 95.0, 85.0, 999.0],
        }
    )
    long = road_ahead.choice_long(projection, "p1", "seat", {"p1": "Tokens", "seat": "Seats"})
    assert long.groupby("line", sort=False)["revenue_usd"].apply(list).to_dict() == {
        "Stay on the current model": [100.0, 90.0],
        "Tokens: forced switch": [80.0, 70.0],
        "Tokens: under choice": [95.0, 85.0],
    }


# ---- the edit estimate (docs block projection_edit_estimate) ---------------------------------

EDITS = (
    ((GROWTH, 1.5),),
    ((GROWTH, 0.5),),
    ((SPREAD, 2.0),),
    ((CHURN, 2.0),),
    ((SHOCK, 0.6),),
    ((CHURN, 1.5), (GROWTH, 1.25), (SHOCK, 0.4)),
    # between the growth grid's multipliers (projection_edit_growth_grid): interpolated
    ((GROWTH, 1.8),),
    ((GROWTH, 0.6),),
    ((CHURN, 1.5), (GROWTH, 1.1)),
)


def _page_totals(projection: pd.DataFrame) -> pd.DataFrame:
    """Every total the page shows: per segment (and all), model and scenario, the MRR of months
    1 .. h for h = 6, 12, 24, forced and under choice."""
    totals = []
    for horizon in road_ahead.HORIZONS:
        months = projection[projection["months_ahead"].between(1, horizon)]
        summed = months.groupby(["segment", "price_model_id", "scenario"])[
            ["projected_revenue_usd", "projected_choice_revenue_usd"]
        ].sum()
        totals.append(summed.astype(float).assign(horizon=horizon))
    return (
        pd.concat(totals)
        .reset_index()
        .set_index(["segment", "price_model_id", "scenario", "horizon"])
    )


def _largest_errors(warehouse: Path, edits) -> dict[tuple, float]:
    """The largest relative error of the estimate against the exact re-projection, per edit,
    over every total the page shows."""
    errors = {}
    for edit in edits:
        estimate = _page_totals(queries.re_projection(edit)["projection"])
        exact = _page_totals(queries.re_projection(edit, exact=True)["projection"])
        assert estimate.index.equals(exact.index)
        relative = (estimate - exact).abs() / exact.abs().where(exact.abs() > 0)
        errors[edit] = float(relative.max().max())
    return errors


def test_where_every_segment_is_sampled_whole_the_estimate_is_the_exact_re_projection(sample):
    # The sample's segments are smaller than the edit sample's strata, so every account stands for
    # itself: the estimate moves the build's figures by exactly what the edit moves them.
    with duckdb.connect(str(sample), read_only=True) as connection:
        weights = connection.execute(
            "select min(sample_weight), max(sample_weight), count(distinct account_id)"
            " from marts.fct_projection_edit_sample"
        ).fetchone()
        based = connection.execute(
            "select count(distinct account_id) from marts.fct_projection_bases"
        ).fetchone()[0]
    assert weights[:2] == (1, 1) and weights[2] == based
    for edit in EDITS[:3]:
        estimate = queries.re_projection(edit)
        exact = queries.re_projection(edit, exact=True)
        for name in ("projection", "backtest", "margin"):
            key = {"projection": "revenue_projection_id", "backtest": "backtest_id"}.get(
                name, "projection_margin_id"
            )
            pd.testing.assert_frame_equal(_sorted(estimate[name], key), _sorted(exact[name], key))


def test_on_a_generated_company_the_estimate_stays_within_the_tolerance(
    generated_warehouse, monkeypatch
):
    # 150 accounts: where a segment has no more accounts than the sample's strata, every account
    # stands for itself and the estimate is the exact re-projection; elsewhere it is an estimate
    # within the tolerance.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(generated_warehouse))
    tolerance = setting_in_force(generated_warehouse, "projection_edit_tolerance")
    errors = _largest_errors(generated_warehouse, EDITS)
    assert max(errors.values()) <= tolerance, errors
    # an edit of the churn or of the shock churn moves every account of a part alike: exact, but
    # for the parts' rounding to 4 decimals (a relative 1e-9 on these totals)
    assert errors[((CHURN, 2.0),)] < 1e-7 and errors[((SHOCK, 0.6),)] < 1e-7, errors


@pytest.mark.scale
def test_on_a_thousand_account_company_the_estimate_stays_within_the_tolerance(
    thousand_account_warehouse, monkeypatch
):
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(thousand_account_warehouse))
    with duckdb.connect(str(thousand_account_warehouse), read_only=True) as connection:
        (largest,) = connection.execute(
            "select max(sample_weight) from marts.fct_projection_edit_sample"
        ).fetchone()
    assert largest >= 2, "some strata stand for several accounts: the figures are estimated"
    tolerance = setting_in_force(thousand_account_warehouse, "projection_edit_tolerance")
    errors = _largest_errors(thousand_account_warehouse, EDITS)
    assert max(errors.values()) <= tolerance, errors
    # exact but for the parts' rounding to 4 decimals, as on the generated company
    assert errors[((CHURN, 2.0),)] < 1e-7 and errors[((SHOCK, 0.6),)] < 1e-7, errors


def test_the_page_says_whether_the_edited_figures_are_estimated_or_exact():
    settings = {
        "projection_edit_sample_accounts": {"value": "80"},
        "projection_edit_tolerance": {"value": "0.05"},
    }
    estimated = road_ahead.edit_method(False, settings)
    assert "at most 80 strata" in estimated and "±5%" in estimated
    assert "rated the sample at the growth multipliers" not in estimated
    settings["projection_edit_growth_grid"] = {"value": "[0.5, 1.5]"}
    assert "at the growth multipliers [0.5, 1.5] and the one in force" in road_ahead.edit_method(
        False, settings
    )
    assert "exact" in road_ahead.edit_method(True, settings)
    assert "estimated" in road_ahead.edit_method(False, {})


def test_rating_each_sampled_account_only_under_its_models_changes_no_figure(
    generated_warehouse, monkeypatch
):
    # An edit rates a sampled account under the models it was drawn for and the current model
    # (projection_edit_account_models); under any other model it counts 0 times. The 150-account
    # company's segments are sampled whole, so half its proposal rows are set to weight 0 here (in
    # a workspace of this test's own) as if they had not been drawn. Rated under every model
    # instead, the estimate must be the same, frame for frame.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(generated_warehouse))
    current = queries.warehouse()
    workspace = projection_queries._projection_workspace.__wrapped__(
        str(current.path), current.version, False
    )
    workspace.connection.execute(
        """
        update projection_rated_bases set sample_weight = 0
        where hash(account_id || price_model_id) % 2 = 0
            and price_model_id in (
                select price_model_id from projection_price_models where not is_current_model
            )
        """
    )
    every_model = dataclasses.replace(
        workspace,
        sql=dataclasses.replace(
            workspace.sql,
            queries=workspace.sql.queries | {"projection_edit_rating": workspace.sql.rate_usage},
        ),
        rated={},
    )
    values = workspace.in_force | {GROWTH: 1.5, SPREAD: 2.0}
    with workspace.connection.cursor() as cursor:
        restricted = projection_queries._re_project(cursor, workspace, values)
        pairs, every_pair = cursor.execute(
            """
            select (select count(*) from projection_edit_account_models),
                (
                    select count(distinct rating_key) from projection_usage_grown
                    where origin_kind = 'projection'
                )
                * (select count(*) from projection_price_models)
            """
        ).fetchone()
    assert 0 < pairs < every_pair, "some sampled accounts are rated under fewer models"
    with workspace.connection.cursor() as cursor:
        unrestricted = projection_queries._re_project(cursor, every_model, values)
    for name, key in (
        ("projection", "revenue_projection_id"),
        ("backtest", "backtest_id"),
        ("margin", "projection_margin_id"),
    ):
        pd.testing.assert_frame_equal(
            _sorted(restricted[name], key), _sorted(unrestricted[name], key)
        )
    workspace.connection.close()


def test_an_edit_of_the_growth_alone_reads_the_build_s_grid_instead_of_rating(
    generated_warehouse, monkeypatch
):
    # The build rated the edit sample at each multiplier of projection_edit_growth_grid and at
    # the one in force (fct_projection_edit_growth_grid). At one of them the page's figures are the
    # same as rating the sample on the edit, frame for frame; between two of them each line moves
    # by its driver, within the tolerance of the rating's own figures; outside the grid, or with
    # the spread edited, the page rates the sample.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(generated_warehouse))
    current = queries.warehouse()
    workspace = projection_queries._projection_workspace.__wrapped__(
        str(current.path), current.version, False
    )
    with duckdb.connect(str(generated_warehouse), read_only=True) as connection:
        (grid_setting,) = connection.execute(
            "select value from marts.rpt_settings where name = 'projection_edit_growth_grid'"
        ).fetchone()
    expected = sorted({float(value) for value in grid_setting.strip("[]").split(",")})
    expected = sorted(set(expected) | {workspace.in_force[GROWTH]})
    assert list(workspace.growth_grid) == expected
    rating = dataclasses.replace(workspace, growth_grid=(), rated={})
    tolerance = setting_in_force(generated_warehouse, "projection_edit_tolerance")

    def both(values: dict[str, float]) -> tuple[dict, dict]:
        workspace.rated.clear()
        rating.rated.clear()
        with workspace.connection.cursor() as cursor:
            read = projection_queries._re_project(cursor, workspace, values)
        with workspace.connection.cursor() as cursor:
            rated = projection_queries._re_project(cursor, rating, values)
        return read, rated

    on_grid = workspace.in_force | {GROWTH: 1.5}
    with workspace.connection.cursor() as cursor:
        projection_queries._re_project(cursor, workspace, on_grid)
        assert projection_queries._rated_from_grid(cursor, workspace, on_grid) is not None
        # outside the grid, or with the spread edited, the sample is rated
        for outside in (0.3, 4.0):
            assert (
                projection_queries._rated_from_grid(cursor, workspace, on_grid | {GROWTH: outside})
                is None
            )
        assert (
            projection_queries._rated_from_grid(
                cursor, workspace, on_grid | {SPREAD: workspace.in_force[SPREAD] + 1}
            )
            is None
        )
    read, rated = both(on_grid)
    for name, key in (
        ("projection", "revenue_projection_id"),
        ("backtest", "backtest_id"),
        ("margin", "projection_margin_id"),
    ):
        pd.testing.assert_frame_equal(_sorted(read[name], key), _sorted(rated[name], key))

    for growth in (0.6, 1.1, 1.8, 2.6):
        read, rated = both(workspace.in_force | {GROWTH: growth})
        interpolated = _page_totals(read["projection"])
        exact = _page_totals(rated["projection"])
        assert interpolated.index.equals(exact.index)
        relative = (interpolated - exact).abs() / exact.abs().where(exact.abs() > 0)
        assert float(relative.max().max()) <= tolerance, (growth, relative.max())
        # an interpolation, not the rating's figures by another path
        assert not interpolated.equals(exact)
    workspace.connection.close()
