"""The Seat health and Value shift pages: in-process with AppTest, then in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib.format import money, percent
from tests.dashboards._browser import ARTIFACTS, WAIT_MS, chromium_page, wait_for_app_run
from tests.dashboards._support import (
    ENTRYPOINT,
    SEGMENT_LABELS,
    private_copy,
    published_warehouse,
)

PAGES = ("app_pages/seat_health.py", "app_pages/value_shift.py")


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def run_page(monkeypatch: pytest.MonkeyPatch, warehouse: Path, page: str) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    return app.switch_page(page).run()


def latest_all_segments(warehouse: Path, columns: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            f"select {columns} from marts.rpt_revenue_portfolio_monthly "
            "where segment = 'all' order by month desc limit 1"
        ).fetchone()


@pytest.mark.parametrize("page", PAGES)
def test_revenue_page_renders_without_an_error(page, sample, monkeypatch):
    app = run_page(monkeypatch, sample, page)

    assert not app.exception
    assert not app.error
    # The header's stale-data notice is about the sample's age; any other warning is a failed query.
    assert [w.value for w in app.warning if not w.value.startswith("The data is stale")] == []


def test_seat_health_kpis_equal_the_marts_latest_month(sample, monkeypatch):
    ending_mrr, below_red_flag, arpa = latest_all_segments(
        sample, "ending_mrr_usd, share_below_red_flag, arpa_usd"
    )
    with duckdb.connect(str(sample), read_only=True) as connection:
        (nrr,) = connection.execute(
            "select nrr from marts.fct_nrr_monthly "
            "where segment = 'all' order by month desc limit 1"
        ).fetchone()

    app = run_page(monkeypatch, sample, PAGES[0])

    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["MRR"] == money(ending_mrr)
    assert metrics["NRR (12 months)"] == percent(nrr)
    assert metrics["Accounts below 70%"] == percent(below_red_flag)
    assert metrics["ARPA"] == money(arpa)


def test_seat_health_names_the_utilization_bands_from_the_warehouse(sample, tmp_path, monkeypatch):
    # The band legend was typed on the page ("Healthy", "Red flag") without the bounds a reader
    # needs. Each band is now its glossary label with the utilization it covers, from the
    # settings in force. Moved in a private copy (a healthy bar of 85%, the watch band renamed),
    # the legend follows: Unlicensed (above 100%), Healthy (85%-100%), Caution (70%-85%),
    # Red flag (below 70%).
    import json

    copy = private_copy(sample, tmp_path)
    with duckdb.connect(str(copy)) as connection:
        connection.execute(
            "update marts.rpt_settings set value = '0.85' where name = 'utilization_healthy'"
        )
        connection.execute(
            "update marts.rpt_metric_definitions set label = 'Caution' "
            "where metric = 'seat_utilization_band_watch'"
        )
        labels = dict(connection.execute(
            "select metric, label from marts.rpt_metric_definitions "
            "where metric like 'seat_utilization_band_%'"
        ).fetchall())  # fmt: skip

    app = run_page(monkeypatch, copy, PAGES[0])

    assert not app.exception
    legends = [
        {
            trace["name"]
            for trace in json.loads(chart.proto.spec)["data"]
            if trace.get("legendgroup")
        }
        for chart in app.get("plotly_chart")
    ]
    assert {
        f"{labels['seat_utilization_band_unlicensed']} (above 100%)",
        "Healthy (85%-100%)",
        "Caution (70%-85%)",
        f"{labels['seat_utilization_band_red_flag']} (below 70%)",
    } in legends


def test_value_shift_kpis_equal_the_marts_latest_month(sample, monkeypatch):
    automation_share, margin, power_users = latest_all_segments(
        sample, "automation_share, gross_margin, power_user_accounts"
    )

    app = run_page(monkeypatch, sample, PAGES[1])

    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Automation share"] == percent(automation_share)
    assert metrics["Gross margin"] == percent(margin)
    assert metrics["Power users"] == f"{power_users:,}"


def _table(app: AppTest, *columns: str) -> pd.DataFrame:
    """The one table of the page whose columns start with `columns`."""
    (frame,) = [
        table.value
        for table in app.dataframe
        if list(table.value.columns[: len(columns)]) == list(columns)
    ]
    return frame


def _usage_by_feature(warehouse: Path, segments: list[str]) -> pd.DataFrame:
    """Tasks and tokens per month x feature x actor type, straight from the usage rollup and the
    accounts (not from the mart the page reads), over `segments` (every one when empty)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            """
            select rollup.month, rollup.feature, rollup.actor_type,
                sum(rollup.tasks) as tasks,
                sum(rollup.input_tokens + rollup.output_tokens) as tokens
            from intermediate.int_usage_events_rolled_up_to_account_month as rollup
            inner join marts.dim_accounts as accounts on rollup.account_id = accounts.account_id
            where len(?) = 0 or list_contains(?, accounts.segment)
            group by all
            order by all
            """,
            [segments, segments],
        ).df()


def _seats_by_month(warehouse: Path, segments: list[str]) -> pd.DataFrame:
    """Billable seats and tasks per seat per month and segment, from fct_account_month."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            """
            select month, segment, sum(billable_seats) as billable_seats,
                sum(tasks) / nullif(sum(billable_seats), 0) as tasks_per_seat
            from marts.fct_account_month
            where list_contains(?, segment)
            group by all
            union all
            select month, 'all' as segment, sum(billable_seats),
                sum(tasks) / nullif(sum(billable_seats), 0)
            from marts.fct_account_month
            where len(?) = 0
            group by all
            order by month, segment
            """,
            [segments, segments],
        ).df()


def _compare_usage_mix(app: AppTest, expected: pd.DataFrame) -> None:
    shown = _table(app, "month", "feature", "actor_type")
    shown = shown.sort_values(["month", "feature", "actor_type"]).reset_index(drop=True)
    assert len(shown) == len(expected)
    assert list(shown["feature"]) == list(expected["feature"])
    assert list(shown["actor_type"]) == list(expected["actor_type"])
    assert list(shown["tasks"].astype(int)) == list(expected["tasks"].astype(int))
    assert list(shown["tokens"].astype(int)) == list(expected["tokens"].astype(int))
    # Each actor's shares of a month add up to 100%.
    totals = shown.groupby(["month", "actor_type"])["share_of_actor_tasks"].sum()
    assert totals.dropna().to_numpy() == pytest.approx(1.0)


def _compare_seats(app: AppTest, expected: pd.DataFrame) -> None:
    shown = _table(app, "month", "segment", "billable_seats")
    shown = shown.sort_values(["month", "segment"]).reset_index(drop=True)
    # the table names the segments by their labels (its CSV keeps the ids)
    assert list(shown["segment"]) == list(expected["segment"].map(SEGMENT_LABELS))
    assert list(shown["billable_seats"].astype(int)) == list(expected["billable_seats"])
    assert shown["tasks_per_seat"].to_numpy(dtype=float) == pytest.approx(
        expected["tasks_per_seat"].to_numpy(dtype=float), nan_ok=True
    )


def test_value_shift_shows_what_agents_and_humans_work_on_as_the_usage_says(sample, monkeypatch):
    expected = _usage_by_feature(sample, [])
    app = run_page(monkeypatch, sample, PAGES[1])

    assert not app.exception
    subheaders = [subheader.value for subheader in app.subheader]
    assert "What agents work on, against humans" in subheaders
    assert "Seats against usage per seat" in subheaders
    _compare_usage_mix(app, expected)
    tiers = _table(app, "month", "model_tier", "actor_type")
    assert int(tiers["tasks"].sum()) == int(expected["tasks"].sum())
    # The caption names the feature that takes the largest share of agents' tasks last month.
    latest = expected[expected["month"] == expected["month"].max()]
    agents = latest[latest["actor_type"] == "agent"]
    top = agents.loc[agents["tasks"].idxmax()]
    share = top["tasks"] / agents["tasks"].sum()
    assert any(
        f"Agents spent {percent(share, 0)} of their tasks on {top['feature'].replace('_', ' ')}"
        in caption.value
        for caption in app.caption
    )
    downloads = [button.proto.id for button in app.get("download_button")]
    for key in ("value_shift_mix_feature_download", "value_shift_mix_model_tier_download"):
        assert any(identity.endswith(f"-{key}") for identity in downloads), key


def test_value_shift_puts_seats_beside_usage_per_seat_as_the_account_months_say(
    sample, monkeypatch
):
    app = run_page(monkeypatch, sample, PAGES[1])
    _compare_seats(app, _seats_by_month(sample, []))
    seats = _seats_by_month(sample, [])
    first, last = seats.iloc[0], seats.iloc[-1]
    assert any(
        caption.value.startswith("All segments, ")
        and f"billable seats {int(first['billable_seats']):,} → {int(last['billable_seats']):,}"
        in caption.value
        for caption in app.caption
    )


def test_value_shift_usage_sections_honour_the_segment_filter(sample, monkeypatch):
    chosen = ["smb", "enterprise"]
    app = run_page(monkeypatch, sample, PAGES[1])
    app.multiselect(key="segments").set_value(chosen).run()

    assert not app.exception
    _compare_usage_mix(app, _usage_by_feature(sample, chosen))
    _compare_seats(app, _seats_by_month(sample, chosen))


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "title", "sections"),
    [
        (
            "seat_health",
            "Seat health",
            (
                "Seat utilization",
                "Net and gross revenue retention",
                "Cohort retention",
                "MRR waterfall",
                "ARPA and ARPU",
            ),
        ),
        (
            "value_shift",
            "Value shift",
            (
                "Automation share by segment",
                "What agents work on, against humans",
                "Seats against usage per seat",
                "Accounts: usage per seat, cost and margin",
                "Bill shock over time",
            ),
        ),
    ],
)
def test_revenue_page_renders_in_a_real_browser(dashboard_url, tmp_path, path, title, sections):
    from playwright.sync_api import expect

    with chromium_page(tmp_path / "chromium-profile") as page:
        page.goto(dashboard_url, wait_until="domcontentloaded")
        # The first page of the navigation has no path of its own: go through the sidebar.
        page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
        expect(page.get_by_text(sections[-1], exact=True)).to_be_visible(timeout=WAIT_MS)
        page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=WAIT_MS)
        wait_for_app_run(page)
        body = page.locator("[data-testid='stMain']").first.inner_text()
        assert title in body
        for section in sections:
            assert section in body
        assert "Traceback" not in body
        assert page.locator(".js-plotly-plot").count() >= len(sections) - 1
        page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)


def test_account_value_over_one_month_is_the_marts_margin_and_power_user_rule(
    generated_warehouse, monkeypatch
):
    """The page applies the gross-margin and power-user rules to the reader's period (a mart holds
    months, not periods a reader picks): over any single month they must give exactly
    fct_account_month's columns, so the two spellings of each rule cannot drift apart. On the
    generated company, which has power users (the sample has none)."""
    sample = generated_warehouse
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(sample))
    from dashboards.lib import queries

    with duckdb.connect(str(sample), read_only=True) as connection:
        marts = connection.execute(
            """select account_id, month, gross_margin, is_power_user from marts.fct_account_month
            where mrr_usd > 0 or cost_to_serve_usd > 0"""
        ).df()
    compared = power_users = 0
    for month in sorted(marts["month"].unique()):
        page = queries.account_value((), (month, month)).set_index("account_id")
        mart = marts[marts["month"] == month].set_index("account_id")
        assert sorted(page.index) == sorted(mart.index), month
        joined = page.merge(mart, left_index=True, right_index=True, suffixes=("", "_mart"))
        assert (joined["is_power_user"] == joined["is_power_user_mart"]).all(), month
        margins = joined[["gross_margin", "gross_margin_mart"]].astype(float)
        same = (margins["gross_margin"] - margins["gross_margin_mart"]).abs() < 1e-9
        assert (same | margins.isna().all(axis=1)).all(), month
        compared += len(joined)
        power_users += int(joined["is_power_user"].sum())
    assert compared > 100 and power_users > 0


def test_seat_health_and_value_shift_name_segments_as_every_page_does(sample, monkeypatch):
    # Regression: the waterfall's Segment box offered "all" and "mid_market", and the bill-shock
    # caption read "all: 16 of 887 ...", "mid_market: 5 of 346 ...".
    labels = set(SEGMENT_LABELS.values())
    seat_health = run_page(monkeypatch, sample, PAGES[0])
    seat_health.multiselect(key="segments").set_value(["smb", "mid_market"]).run()
    assert not seat_health.exception
    offered = seat_health.selectbox(key="seat_health_waterfall_segment").options
    assert set(offered) == {SEGMENT_LABELS["smb"], SEGMENT_LABELS["mid_market"]}, offered
    seat_health.multiselect(key="segments").set_value([]).run()
    assert seat_health.selectbox(key="seat_health_waterfall_segment").options == [
        SEGMENT_LABELS["all"]
    ]

    for chosen in ([], ["mid_market", "enterprise"]):
        value_shift = run_page(monkeypatch, sample, PAGES[1])
        value_shift.multiselect(key="segments").set_value(chosen).run()
        (shocked,) = [c.value for c in value_shift.caption if "billed accounts shocked" in c.value]
        named = [part.split(":")[0] for part in shocked.split(" · ")]
        assert named and set(named) <= labels, shocked


def test_value_shift_heads_the_model_cost_columns_in_words(sample, monkeypatch):
    # Regression: the model-cost table showed the raw headers projection_yearly_decline and
    # is_projection_decline_set.
    app = run_page(monkeypatch, sample, PAGES[1])
    (table,) = [t for t in app.dataframe if "projection_yearly_decline" in t.value.columns]
    config = json.loads(table.proto.columns)
    headers = {column: config.get(column, {}).get("label") for column in table.value.columns}
    assert all(headers.values()), headers
    assert not [header for header in headers.values() if "_" in header], headers
    assert config["projection_yearly_decline"]["help"] == _definition(
        sample, "projection_cost_curve"
    )
    assert "projection_yearly_cost_decline" in config["is_projection_decline_set"]["help"]


def _definition(warehouse: Path, metric: str) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (text,) = connection.execute(
            "select definition from marts.rpt_metric_definitions where metric = ?", [metric]
        ).fetchone()
    return text
