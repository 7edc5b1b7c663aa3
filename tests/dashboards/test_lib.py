"""Pure helpers of the dashboard: formatting, schedule and staleness rules, chart colours."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboards.lib import charts, decision, pilot, pools, road_ahead, shaping
from dashboards.lib.format import (
    MISSING,
    ago,
    count,
    counted,
    money,
    number,
    percent,
    percent_against,
    pretty_json,
    timestamp,
)
from dashboards.lib.freshness import is_stale, next_daily_run
from orchestration.lib.settings import DASHBOARD_ENTRYPOINT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_234_567, "$1.2M"),
        (999_960, "$1.0M"),  # rounds into the next unit, never "$1,000.0K"
        (12_345, "$12.3K"),
        (950, "$950"),
        (12.5, "$12.50"),
        (-2_500, "-$2.5K"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_money_reads_like_a_person_writes_it(value, expected):
    assert money(value) == expected


def test_percent_and_count_read_like_a_person_writes_them():
    assert percent(0.974) == "97.4%"
    assert percent(1.05) == "105.0%"  # ratios are fractions: 1.05 means 105%
    assert count(1204) == "1,204"
    assert count(None) == "—"
    assert number(1204.46) == "1,204.5"
    assert number(float("nan")) == "—"


def test_timestamps_are_shown_in_utc_whatever_offset_they_arrive_with():
    assert timestamp("2026-03-15T08:01:00+02:00") == "2026-03-15 06:01 UTC"
    assert timestamp(datetime(2026, 3, 15, 6, 1)) == "2026-03-15 06:01 UTC"  # naive means UTC


def test_ago_names_the_largest_whole_unit_in_both_directions():
    now = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    assert ago(now - timedelta(hours=3, minutes=59), now) == "3 hours ago"
    assert ago(now + timedelta(days=1), now) == "in 1 day"
    assert ago(now, now) == "just now"


def test_a_raw_record_is_indented_and_non_json_is_shown_as_delivered():
    assert pretty_json('{"a": 1}') == '{\n  "a": 1\n}'
    assert pretty_json("not json") == "not json"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 15, 5, 59, tzinfo=UTC), datetime(2026, 3, 15, 6, 0, tzinfo=UTC)),
        (datetime(2026, 3, 15, 6, 0, tzinfo=UTC), datetime(2026, 3, 16, 6, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_the_next_daily_run_is_strictly_after_now(now, expected):
    assert next_daily_run("0 6 * * *", now) == expected


def test_a_cron_that_is_not_daily_is_refused_rather_than_misread():
    with pytest.raises(ValueError, match="daily"):
        next_daily_run("0 6 * * 1", datetime(2026, 3, 15, tzinfo=UTC))


def test_data_is_stale_only_when_more_than_two_days_older_than_the_refresh():
    refreshed_at = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)
    assert not is_stale(refreshed_at - timedelta(days=2), refreshed_at)
    assert is_stale(refreshed_at - timedelta(days=2, seconds=1), refreshed_at)
    assert not is_stale(None, refreshed_at)


def test_a_category_keeps_its_colour_whatever_order_the_data_arrives_in():
    assert charts.color_map(["usage_events", "accounts"]) == charts.color_map(
        ["accounts", "usage_events"]
    )
    assert len(set(charts.OKABE_ITO)) == len(charts.OKABE_ITO)


# ---- shaping: frames in, frames out ----------------------------------------------------------

JAN, FEB = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")


def _same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual.reset_index(drop=True), expected, check_dtype=False)


def test_the_latest_rows_are_those_of_the_newest_month_whatever_the_order():
    frame = pd.DataFrame(
        {"month": [FEB, JAN, FEB], "segment": ["smb", "smb", "mid"], "x": [1, 2, 3]}
    )
    assert shaping.latest_month(frame) == FEB
    _same(
        shaping.latest_rows(frame),
        pd.DataFrame({"month": [FEB, FEB], "segment": ["smb", "mid"], "x": [1, 3]}),
    )
    assert shaping.months_newest_first(frame) == [FEB, JAN]
    assert shaping.segments_in_order(frame) == ["smb", "mid"]
    assert shaping.month_segment_row(frame, JAN, "smb")["x"] == 2


def test_the_kpi_rows_carry_the_latest_months_nrr_and_miss_it_where_there_is_none():
    portfolio = pd.DataFrame(
        {"month": [JAN, FEB, FEB], "segment": ["smb", "smb", "mid"], "mrr": [10.0, 11.0, 20.0]}
    )
    # January's 0.5 must not leak into February; "mid" has no NRR row, so it is missing.
    nrr = pd.DataFrame(
        {"month": [JAN, FEB], "segment": ["smb", "smb"], "nrr": [0.5, 1.02], "grr": [0.4, 0.95]}
    )
    kpis = shaping.latest_kpis(portfolio, nrr)
    assert list(kpis.index) == ["smb", "mid"]  # the portfolio's order
    assert kpis.loc["smb", "nrr"] == 1.02 and kpis.loc["smb", "grr"] == 0.95
    assert pd.isna(kpis.loc["mid", "nrr"]) and kpis.loc["mid", "mrr"] == 20.0
    failed = shaping.latest_kpis(portfolio, None)  # the NRR read failed: every cell missing
    assert failed["nrr"].isna().all() and failed["grr"].isna().all()
    assert list(failed["mrr"]) == [11.0, 20.0]


def test_utilization_bands_go_long_with_the_band_name_alone():
    portfolio = pd.DataFrame(
        {"month": [JAN], "segment": ["smb"], "healthy_accounts": [3], "red_flag_accounts": [1]}
    )
    expected = pd.DataFrame(
        {
            "month": [JAN, JAN],
            "segment": ["smb", "smb"],
            "band": ["healthy", "red_flag"],  # "_accounts" removed, in the order asked for
            "accounts": [3, 1],
        }
    )
    _same(shaping.utilization_bands_long(portfolio, ["healthy", "red_flag"]), expected)


def test_retention_goes_long_and_skips_months_without_a_base():
    nrr = pd.DataFrame(
        {"month": [JAN, FEB], "segment": ["all", "all"], "nrr": [None, 1.1], "grr": [None, 0.9]}
    )
    # January has no NRR yet (under twelve months of history): only February's two measures.
    expected = pd.DataFrame(
        {
            "month": [FEB, FEB],
            "segment": ["all", "all"],
            "measure": ["NRR", "GRR"],
            "value": [1.1, 0.9],
        }
    )
    _same(shaping.retention_long(nrr), expected)
    assert shaping.retention_long(nrr.iloc[:1]).empty


def test_arpa_and_arpu_go_long_under_their_names():
    portfolio = pd.DataFrame(
        {"month": [JAN], "segment": ["smb"], "arpa_usd": [500.0], "arpu_usd": [50.0]}
    )
    expected = pd.DataFrame(
        {
            "month": [JAN, JAN],
            "segment": ["smb", "smb"],
            "measure": ["ARPA", "ARPU"],
            "value": [500.0, 50.0],
        }
    )
    _same(shaping.per_account_long(portfolio), expected)


def test_the_cohort_grid_has_a_row_per_cohort_and_a_column_per_month_since_start():
    cohorts = pd.DataFrame(
        {
            "cohort_month": [JAN, JAN, FEB],
            "months_since_start": [0, 1, 0],
            "nrr": [1.0, 0.9, 1.0],
            "logo_retention": [1.0, 0.8, 1.0],
        }
    )
    grid = shaping.cohort_grid(cohorts, "logo_retention")
    assert list(grid.index) == [JAN, FEB] and list(grid.columns) == [0, 1]
    assert grid.loc[JAN, 1] == 0.8
    assert pd.isna(grid.loc[FEB, 1])  # February's cohort has no month 1 yet


def test_power_users_are_marked_and_counted():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"], "is_power_user": [True, False, True]})
    marked = shaping.with_power_user_marker(accounts)
    assert list(marked["marker"]) == ["power user", "other", "power user"]
    assert "marker" not in accounts  # the query's frame is left alone
    assert shaping.power_user_count(accounts) == 2


def _guardrail(**overrides: object) -> pd.Series:
    row = {
        "bill_shock_rate": 0.04,
        "max_bill_shock_rate": 0.05,
        "revenue_delta_pct": 0.01,
        "min_revenue_delta_pct": -0.02,
        "max_revenue_delta_pct": 0.05,
        "is_passing": True,
    }
    return pd.Series(row | overrides)


def test_a_verdict_names_every_guardrail_broken_and_its_limit():
    assert shaping.guardrail_verdict(_guardrail()) == "passes"
    # 8% shock > 5%; -3% revenue < -2%.
    failing = _guardrail(bill_shock_rate=0.08, revenue_delta_pct=-0.03, is_passing=False)
    assert shaping.guardrail_verdict(failing) == (
        "fails: bill-shock rate 8.0% is above 5%; revenue -3.0% is outside -2% .. 5%"
    )
    # Failing on a guardrail the row does not carry: point at the table.
    assert shaping.guardrail_verdict(_guardrail(is_passing=False)) == "fails: see the table"
    verdicts = shaping.with_verdicts(pd.DataFrame([_guardrail(), failing]))
    assert list(verdicts["verdict"].str.split(":").str[0]) == ["passes", "fails"]


def test_guardrails_are_picked_by_segment_and_by_model():
    guardrails = pd.DataFrame(
        {
            "price_model_id": ["m1", "m1", "m2"],
            "segment": ["all", "smb", "all"],
            "revenue_delta_pct": [0.1, 0.2, 0.3],
        }
    )
    assert list(shaping.guardrails_of_segment(guardrails, "all").index) == ["m1", "m2"]
    of_m1 = shaping.guardrails_of_model(guardrails, "m1")
    assert shaping.segment_row(of_m1, "smb")["revenue_delta_pct"] == 0.2
    assert shaping.segment_row(of_m1, "enterprise") is None
    assert shaping.guardrails_of_model(None, "m1") is None
    assert shaping.segment_row(None, "smb") is None


def test_price_models_split_into_names_proposals_and_the_current_model():
    models = pd.DataFrame(
        {
            "price_model_id": ["current", "hybrid"],
            "name": ["Per seat", "Hybrid"],
            "is_current_model": [True, False],
        }
    )
    assert shaping.model_names(models) == {"current": "Per seat", "hybrid": "Hybrid"}
    assert shaping.proposal_ids(models) == ["hybrid"]
    assert shaping.current_model_ids(models) == ["current"]


def test_revenue_lines_draw_the_actual_invoices_once_and_each_model_by_name():
    revenue = pd.DataFrame(
        {
            "month": [JAN, JAN],
            "price_model_id": ["m1", "m2"],
            "actual_usd": [100.0, 100.0],  # the same invoices behind every model
            "shadow_usd": [90.0, 120.0],
        }
    )
    expected = pd.DataFrame(
        {"month": [JAN, JAN, JAN], "usd": [100.0, 90.0, 120.0], "model": ["Actual", "One", "Two"]}
    )
    _same(shaping.revenue_lines(revenue, {"m1": "One", "m2": "Two"}), expected)


def test_a_model_without_a_name_gets_the_fallback():
    shock = pd.DataFrame({"price_model_id": ["current", "m1"]})
    named = shaping.with_model_names(shock, {"m1": "One"}, unnamed="Actual invoices")
    assert list(named["model"]) == ["Actual invoices", "One"]


def test_the_winners_histogram_names_its_bins_and_the_top_accounts_cross_the_models():
    deltas = pd.DataFrame(
        {
            "kind": ["bin", "bin", "bin", "top", "top", "top"],
            "price_model_id": ["m1", "m1", "m2", "m1", "m2", "m2"],
            "bin": [0, None, 59, None, None, None],
            "accounts": [3, 2, 1, 1, 1, 1],
            "account_id": [None, None, None, "a1", "a2", "a3"],
            "delta_usd": [None, None, None, -5.0, 9.0, 1.0],
        }
    )
    # bin 0 is -100% .. -95% (middle -97.5%), bin 59 is +195% .. +200% (middle +197.5%); the
    # two accounts that paid nothing (no bin) are counted as rated but drawn nowhere
    _same(
        shaping.account_delta_bins(deltas, {"m1": "One", "m2": "Two"}),
        pd.DataFrame({"model": ["One", "Two"], "delta_mid": [-0.975, 1.975], "accounts": [3, 1]}),
    )
    assert shaping.accounts_rated(deltas) == 6
    # the largest moves in dollars, whichever model: a2 (+9), a1 (-5)
    top = shaping.accounts_most_affected(deltas, {"m1": "One", "m2": "Two"}, count=2)
    assert list(top["account_id"]) == ["a2", "a1"]
    assert list(top["model"]) == ["Two", "One"]


def test_an_edited_model_replaces_its_rows_and_the_book_zips_to_csvs():
    book = pd.DataFrame({"price_model_id": ["m1", "m2", "m1"], "unit_amount": [1.0, 2.0, 3.0]})
    edited = pd.DataFrame({"price_model_id": ["m1"], "unit_amount": [9.0]})
    replaced = shaping.replace_model_rows(book, "m1", edited)
    _same(replaced, pd.DataFrame({"price_model_id": ["m2", "m1"], "unit_amount": [2.0, 9.0]}))
    with zipfile.ZipFile(io.BytesIO(shaping.csv_archive({"book.csv": replaced}))) as bundle:
        assert bundle.read("book.csv").decode() == "price_model_id,unit_amount\nm2,2.0\nm1,9.0\n"


def test_mismatches_are_filtered_and_counted_by_reason():
    mismatches = pd.DataFrame({"mismatch_reason": ["wrong_rate", "missing_line", "wrong_rate"]})
    assert shaping.mismatch_reasons(mismatches) == ["missing_line", "wrong_rate"]
    shown = shaping.mismatches_of(mismatches, ["wrong_rate"])
    assert shaping.mismatch_counts(shown).to_dict() == {"wrong_rate": 2}
    assert shaping.mismatches_of(mismatches, []).empty


def test_a_shown_table_dashes_empty_text_and_keeps_its_numbers_for_arrow():
    """The mismatch table: a missing line has no invoiced quantity. Blanking every cell as text
    put "" in a number column, which Arrow cannot convert (Streamlit logged the traceback and
    fell back to showing every number unformatted)."""
    import pyarrow as pa

    from dashboards.lib.layout import dash_missing_text

    frame = pd.DataFrame(
        {
            "source_event_id": ["se_1", None],
            "invoiced_quantity": [3.0, float("nan")],
            "expected_quantity": pd.array([3, None], dtype="Int64"),
            "period_start": pd.to_datetime(["2026-01-01", None]),
        }
    )
    shown = dash_missing_text(frame)
    assert shown["source_event_id"].tolist() == ["se_1", MISSING]
    assert shown.dtypes.drop("source_event_id").equals(frame.dtypes.drop("source_event_id"))
    assert pd.isna(shown.loc[1, "invoiced_quantity"]) and pd.isna(shown.loc[1, "period_start"])
    pa.Table.from_pandas(shown)  # what st.dataframe does first
    with pytest.raises(pa.ArrowInvalid):  # the way the page blanked cells before
        pa.Table.from_pandas(frame.astype(object).where(frame.notna(), ""))
    assert pd.isna(frame.loc[1, "source_event_id"])  # the caller's frame is untouched


def test_accounts_and_invoices_are_labelled_with_their_mismatches():
    accounts = pd.DataFrame(
        {"account_id": ["a1", "a2"], "account_name": ["Acme", "Globex"], "mismatched_lines": [2, 0]}
    )
    assert shaping.account_labels(accounts) == {
        "a1": "a1 · Acme · has mismatches",
        "a2": "a2 · Globex",
    }
    invoices = pd.DataFrame(
        {
            "invoice_id": ["i1", "i2"],
            "period_start": [JAN, FEB],
            "invoice_status": ["paid", "open"],
            "mismatched_lines": [0, 3],
        }
    )
    assert shaping.invoice_labels(invoices) == {
        "i1": "i1 · 01 Jan 2026 · paid",
        "i2": "i2 · 01 Feb 2026 · open · 3 mismatches",
    }


def test_missing_text_reads_as_the_dash_in_object_and_string_columns_alike():
    """pandas' `str` dtype (what `.str.replace` returns) printed "None" in the explainer's Reason
    column; numbers and all-missing columns stay as they are."""
    from dashboards.lib.layout import dash_missing_text

    frame = pd.DataFrame(
        {
            "object_text": pd.Series(["a", None], dtype=object),
            "string_text": pd.Series(["stale_quantity", None], dtype="str").str.replace("_", " "),
            "number": [1.0, None],
        }
    )
    shown = dash_missing_text(frame)
    assert shown["object_text"].tolist() == ["a", MISSING]
    assert shown["string_text"].tolist() == ["stale quantity", MISSING]
    assert shown["number"].isna().tolist() == [False, True]


def test_the_diagonal_spans_both_columns_and_stays_above_zero_for_log_axes():
    accounts = pd.DataFrame({"mrr_usd": [0.0, 50.0], "cost_to_serve_usd": [5.0, 400.0]})
    # min(0, 5) = 0 is raised to 0.01; max(50, 400) = 400.
    assert charts.diagonal_range(accounts, "mrr_usd", "cost_to_serve_usd") == (0.01, 400.0)


def test_a_missing_account_name_shows_the_dash_not_nan():
    import pandas as pd

    from dashboards.lib.format import MISSING
    from dashboards.lib.shaping import account_labels

    # pandas 3 hands DuckDB's NULL over as NaN, which is truthy: `name or MISSING` showed "nan".
    accounts = pd.DataFrame(
        {"account_id": ["acc_1"], "account_name": [float("nan")], "mismatched_lines": [0]}
    )
    assert account_labels(accounts) == {"acc_1": f"acc_1 · {MISSING}"}


def _segment_guardrails(passing: dict[str, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            _guardrail(
                segment=segment,
                is_passing=is_passing,
                failure_reason=None if is_passing else "revenue outside the range",
            )
            for segment, is_passing in passing.items()
        ]
    )


def test_a_model_passes_only_when_every_segment_shown_passes(tmp_path, monkeypatch):
    # Regression: the page judged the pooled `all` row, so a model that passed pooled read as
    # passing while it failed smb. No warehouse: the segments go by their fallback names.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(tmp_path / "none.duckdb"))
    guardrails = _segment_guardrails(
        {"all": True, "enterprise": True, "mid_market": True, "smb": False}
    )
    shown = shaping.segments_judged(guardrails, ())
    assert shown == ["smb", "mid_market", "enterprise"]  # never `all`; smallest first
    judged = shaping.guardrails_of_segments(guardrails, shown)
    assert list(judged["segment"]) == shown
    assert shaping.segment_verdict(judged, shown) == (
        False,
        "fails the guardrails in Smb; passes in Mid market, Enterprise",
    )
    # The sidebar's choice is what is judged: without smb the model passes.
    chosen = shaping.segments_judged(guardrails, ("enterprise", "mid_market"))
    assert shaping.segment_verdict(shaping.guardrails_of_segments(guardrails, chosen), chosen) == (
        True,
        "passes the guardrails in Mid market, Enterprise",
    )
    # A chosen segment without billed months is said, and is no pass.
    assert shaping.segment_verdict(
        judged[judged["segment"] == "enterprise"], ["smb", "enterprise"]
    ) == (
        False,
        "passes in Enterprise; no billed months in Smb",
    )
    failing_row = judged.set_index("segment").loc["smb"]
    assert shaping.failure_reason(failing_row) == "Revenue outside the range"
    assert shaping.failure_reason(judged.set_index("segment").loc["enterprise"]) == ""


def test_the_triggers_verdict_over_segments_says_a_segment_it_did_not_judge(tmp_path, monkeypatch):
    # Regression: a segment without a trigger row made the verdict red while its headline said
    # "passes in ..." and nothing of the segment left out.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(tmp_path / "none.duckdb"))
    verdicts = pd.DataFrame(
        {"segment": ["mid_market", "smb"], "is_proposal_viable": [True, False]}
    ).set_index("segment")
    window = "12 months to Oct 2026"
    assert decision.segment_verdict(verdicts, ["mid_market"], window) == (
        True,
        "passes in Mid market (12 months to Oct 2026)",
    )
    assert decision.segment_verdict(verdicts, ["smb", "mid_market"], window) == (
        False,
        "fails in Smb; passes in Mid market (12 months to Oct 2026)",
    )
    assert decision.segment_verdict(verdicts, ["mid_market", "enterprise"], window) == (
        False,
        "passes in Mid market; no verdict in Enterprise (12 months to Oct 2026)",
    )


def test_guardrail_figures_show_each_figure_beside_its_limit():
    row = _guardrail(shadow_gross_margin=0.61, actual_gross_margin=0.58, revenue_delta_pct=0.726)
    assert shaping.guardrail_figures(row) == (
        "revenue +72.6% (range -2% .. +5%) · bill shock 4.0% (limit 5%) · margin 61% (now 58%)"
    )


def test_seats_against_usage_change_compares_each_segments_first_and_last_month():
    series = pd.DataFrame(
        {
            "month": [FEB, JAN, JAN, FEB],
            "segment": ["smb", "smb", "enterprise", "enterprise"],
            "billable_seats": [8, 10, 0, 5],
            "tasks_per_seat": [3.0, 2.0, None, 4.0],
        }
    )
    change = shaping.seats_against_usage_change(series).set_index("segment")
    assert change.loc["smb", "first_seats"] == 10 and change.loc["smb", "last_seats"] == 8
    assert change.loc["smb", "seats_change"] == pytest.approx(-0.2)
    assert change.loc["smb", "tasks_per_seat_change"] == pytest.approx(0.5)
    assert pd.isna(change.loc["enterprise", "seats_change"])  # from 0 seats: no ratio


def test_the_top_of_each_actor_is_its_largest_share_in_the_newest_month():
    mix = pd.DataFrame(
        {
            "month": [JAN, FEB, FEB, FEB, FEB],
            "feature": ["chat", "chat", "triage", "chat", "triage"],
            "actor_type": ["agent", "agent", "agent", "human", "human"],
            "share_of_actor_tasks": [0.9, 0.3, 0.7, 0.6, 0.4],
        }
    )
    top = shaping.top_of_each_actor(mix, "feature")
    assert list(top.itertuples(index=False, name=None)) == [
        ("agent", "Agents", "triage", 0.7),
        ("human", "Humans", "chat", 0.6),
    ]


def _query_modules() -> list:
    import importlib
    import pkgutil

    from dashboards.lib import queries

    return [
        importlib.import_module(f"{queries.__name__}.{module.name}")
        for module in pkgutil.iter_modules(queries.__path__)
    ]


def test_clear_cache_clears_every_cache_of_every_query_module(monkeypatch):
    # clear_cache used to clear the reads' cache alone, though the queries had more than one
    # (the re-projection's results and the what-if workspaces stayed), and a new subject module's
    # cache would be forgotten the same way.
    from dashboards.lib import queries

    cached_type = type(queries._core._cached_read)
    caches = {
        f"{module.__name__}.{name}": member
        for module in _query_modules()
        for name, member in vars(module).items()
        if isinstance(member, cached_type)
    }
    cleared = []
    for name, cached in caches.items():
        monkeypatch.setattr(cached, "clear", lambda name=name: cleared.append(name))
    queries.clear_cache()
    assert len(caches) >= 5
    assert sorted(cleared) == sorted(caches)


SQL_SIGNS = re.compile(
    r"\bfrom\s+(marts|audit|staging|intermediate|published)\.|^\s*(import|from)\s+duckdb\b|\.execute\(",
    re.IGNORECASE | re.MULTILINE,
)


def test_no_page_or_lib_module_outside_the_queries_package_holds_sql():
    # The issue-13 split: every query of the dashboard lives in lib/queries/<subject>.py.
    dashboards = DASHBOARD_ENTRYPOINT.parent
    queries_package = dashboards / "lib" / "queries"
    holding_sql = [
        str(path.relative_to(dashboards))
        for path in sorted(dashboards.rglob("*.py"))
        if queries_package not in path.parents and SQL_SIGNS.search(path.read_text("utf-8"))
    ]
    assert holding_sql == []


def test_the_pool_alert_levels_run_from_the_lowest_in_the_legend():
    # Regression: sorted as text, "100%" came before "70%" and "90%" in the chart's legend.
    rows = pd.DataFrame(
        {
            "month": ["2026-01-01", "2026-02-01"],
            "price_model_id": ["pool", "pool"],
            "accounts_alerted_70": [5, 6],
            "accounts_alerted_90": [3, 4],
            "accounts_alerted_100": [1, 2],
        }
    )
    series = pools.alert_series(rows, {"pool": "Prepaid pool"})
    assert list(dict.fromkeys(series["level"])) == ["70%", "90%", "100%"]
    assert pools.alert_level_names() == ["70%", "90%", "100%"]
    assert list(series["accounts_reaching"]) == [5, 6, 3, 4, 1, 2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1 mismatch"),
        (3, "3 mismatches"),
        (0, "0 mismatches"),
        (1_204, "1,204 mismatches"),
        (None, "— mismatches"),
    ],
)
def test_a_count_says_its_noun_in_the_singular_for_one(value, expected):
    assert counted(value, "mismatch", "mismatches") == expected
    assert counted(2, "seat") == "2 seats"


def test_a_segment_column_is_labelled_with_one_lookup_per_segment(tmp_path, monkeypatch):
    # Regression: a lookup reads the glossary (about 2 ms), and the Value shift scatter mapped
    # it over every account's row: seconds per chart at 1,500 accounts.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(tmp_path / "none.duckdb"))
    from dashboards.lib import definitions

    looked_up = []
    real_label = definitions.label
    monkeypatch.setattr(
        definitions,
        "label",
        lambda name, default=None: looked_up.append(name) or real_label(name, default),
    )
    column = pd.Series(["smb", "mid_market", None] * 1_000)
    labelled = definitions.segment_labels(column)
    assert sorted(looked_up) == ["segment_mid_market", "segment_smb"]
    assert list(labelled[:2]) == ["Smb", "Mid market"] and pd.isna(labelled[2])


def test_a_short_month_axis_has_a_tick_on_each_month():
    """Two months of data drew Plotly's own ticks, a week apart ("Nov 3", "Nov 10", the year on a
    second line under them): a month axis of a few months gets one tick a month, "Nov 2024". A
    long one, a refresh's time of day, numbers and text keep Plotly's ticks."""
    from datetime import date

    import plotly.express as px

    def ticks(frame: pd.DataFrame, **options) -> tuple:
        figure = charts.legend_below(px.line(frame, x="x", y="y", **options))
        return tuple((axis.dtick, axis.tickformat) for axis in figure.select_xaxes())

    short = pd.DataFrame({"x": [date(2024, 11, 1), date(2024, 12, 1)], "y": [1, 2]})
    assert ticks(short) == (("M1", "%b %Y"),)
    stamps = short.assign(x=pd.to_datetime(short["x"]))
    assert ticks(stamps) == (("M1", "%b %Y"),)
    # facets (agents beside humans): each axis
    faceted = pd.concat([short.assign(actor="agent"), short.assign(actor="human")])
    assert ticks(faceted, facet_col="actor") == (("M1", "%b %Y"), ("M1", "%b %Y"))
    long = pd.DataFrame(
        {"x": pd.date_range("2024-01-01", periods=charts.MONTHLY_TICKS_UP_TO + 1, freq="MS")}
    ).assign(y=1)
    assert ticks(long) == ((None, None),)
    refreshes = pd.DataFrame({"x": pd.to_datetime(["2024-11-01 06:00", "2024-11-02 06:00"])})
    assert ticks(refreshes.assign(y=1)) == ((None, None),)
    assert ticks(pd.DataFrame({"x": [-1, 0, 1], "y": [1, 2, 3]})) == ((None, None),)
    assert ticks(pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})) == ((None, None),)


def _backtest(projected: list[float], actual: list[float]) -> pd.DataFrame:
    """A backtest of len(projected) months from November 2024, its errors worked from the rows:
    the flat forecast carries month 0 forward."""
    flat = [actual[0]] * len(actual)

    def mape(forecast: list[float]) -> float:
        errors = [abs(f - a) / a for f, a in zip(forecast[1:], actual[1:], strict=True)]
        return sum(errors) / len(errors)

    return pd.DataFrame(
        {
            "months_ahead": range(len(actual)),
            "backtest_origin_month": [datetime(2024, 11, 1)] * len(actual),
            "projected_revenue_usd": projected,
            "actual_revenue_usd": actual,
            "flat_revenue_usd": flat,
            "backtest_mape": mape(projected),
            "flat_mape": mape(flat),
            "trailing_nrr_mape": mape(flat),
        }
    )


def test_a_method_that_projects_flat_ties_the_flat_forecast_and_does_not_beat_it():
    """Four months of history: the backtest starts at the first month, with nothing before it to
    measure churn or growth from, so the method projects the base flat and ties both naive
    forecasts. Actual 100, 102, 101, 103 against 100 throughout: errors 2/102, 1/101, 3/103,
    MAPE 1.9% (within 5%, where a method within 3 points of the best naive forecast used to
    count as beating it). It is a tie, said as such, not a win."""
    tie = _backtest([100.0] * 4, [100.0, 102.0, 101.0, 103.0])
    assert road_ahead.backtest_mape(tie) == pytest.approx((2 / 102 + 1 / 101 + 3 / 103) / 3)
    beats, verdict = road_ahead.backtest_verdict(tie)
    assert beats is False
    assert "from November 2024 it projected the base flat" in verdict and "tie" in verdict
    assert road_ahead.backtest_months_back(tie) == 3
    # a method that moves with the base and lands closer still beats them
    moved = _backtest([100.0, 102.0, 102.0, 103.0], [100.0, 102.0, 101.0, 103.0])
    assert road_ahead.backtest_verdict(moved)[0] is True
    assert road_ahead.backtest_months_back(pd.DataFrame(columns=tie.columns)) is None


def test_a_method_only_close_to_a_naive_forecast_does_not_beat_it_and_says_by_how_much():
    """The errors of a generated company's SMB backtest: the method 4.3%, the flat forecast 9.4%,
    the trailing-NRR one 3.6%. Both small, but the method is worse than the trailing-NRR forecast,
    so the page must not say it beats both (it used to: within 3 points of a naive forecast under
    5% counted as beating it)."""
    close = _backtest([100.0, 101.0, 102.0, 103.0], [100.0, 102.0, 101.0, 103.0]).assign(
        backtest_mape=0.04317, flat_mape=0.09408, trailing_nrr_mape=0.03565
    )
    beats, verdict = road_ahead.backtest_verdict(close)
    assert beats is False
    assert verdict == (
        "The method does not beat the trailing-NRR forecast (3.6% against the method's 4.3%) "
        "here: trust the band less than its error suggests."
    )
    # worse than both: both named
    worse = close.assign(backtest_mape=0.12)
    assert (
        "the flat forecast (9.4% against the method's 12.0%) nor the trailing-NRR"
        in (road_ahead.backtest_verdict(worse)[1])
    )
    assert road_ahead.backtest_verdict(close.assign(backtest_mape=0.035))[0] is True


def test_the_match_sentence_counts_the_close_features_and_names_the_others():
    """Bar 0.1: MRR at -0.55 and seat utilization at -0.38 miss it, billable seats at -0.01 is
    within it, automation share has no difference (both arms without spread): 1 of the 3 judged
    features is a close match. An acronym keeps its capitals inside the sentence."""
    quality = pd.DataFrame(
        {
            "feature": ["automation_share", "billable_seats", "mrr_usd", "seat_utilization"],
            "is_close_match": [None, True, False, False],
        }
    )
    sentence = pilot.match_summary(quality, 0.1)
    assert "within 0.1 either way: 1 of 3 features is." in sentence
    assert "They differ on MRR and seat utilization:" in sentence
    assert pilot.match_summary(quality, None) == (
        "Averages over the months before each account's switch."
    )


def test_the_prediction_sentence_says_the_gap_is_the_accounts_own_and_sets_the_control_beside_it():
    """A generated company's pilot of Hybrid: predicted $17,100 a month, paid $11,450 (-33.0%
    against the prediction, as the mart gives it). The readout's MRR per account went 2,181.00 ->
    1,432.65 for the pilot (1,432.65025 / 2,181 - 1 = -34.3%) and 2,154.75 -> 1,682.875 for the
    control (-21.9%): the reader sees the control fell too, so the gap is no rating error."""
    prediction = pd.DataFrame(
        {
            "scope": ["pilot"],
            "accounts": [8],
            "mrr_before_usd": [17448.0],
            "predicted_mrr_usd": [17100.0],
            "mrr_after_usd": [11450.0],
            "predicted_change_pct": [17100 / 17448 - 1],
            "realised_change_pct": [11450 / 17448 - 1],
            "prediction_error_pct": [-0.33],
        }
    )
    readout = pd.DataFrame(
        {
            "metric": ["logo_churn", "mrr"],
            "pilot_before": [0.0, 2181.0],
            "pilot_after": [0.0, 1432.65025],
            "control_before": [0.0, 2154.75],
            "control_after": [0.0, 1682.875],
        }
    )
    alone = pilot.prediction_summary(prediction)
    assert alone is not None and alone.endswith("-33.0% against the prediction.")
    said = pilot.prediction_summary(prediction, readout)
    assert said.startswith(alone)
    assert "The gap is not a rating error" in said
    assert "control group's MRR per account moved -21.9%, the pilot's -34.3%" in said
    # a readout without its MRR row adds nothing
    assert pilot.prediction_summary(prediction, readout[readout["metric"] != "mrr"]) == alone


def test_the_rates_table_shows_the_trend_that_deepens_a_decline():
    """Seats of a segment decline 9.7% a month in the middle scenario and the decline deepens by
    0.58 points a month (a trended metric); tokens grow 6.4% with no trend. The table carries the
    trend beside the trended rate only, so a reader sees why the months ahead fall faster."""
    rates = pd.DataFrame(
        {
            "segment": ["mid_market"] * 2,
            "metric": ["seats", "tokens"],
            "scenario": ["middle"] * 2,
            "monthly_growth_rate": [-0.097, 0.0638],
            "measured_growth_rate": [-0.09, 0.06],
            "growth_rate_error": [0.01, 0.01],
            "is_growth_trended": [True, False],
            "growth_trend_slope": [-0.00581, 0.0],
        }
    )
    table = road_ahead.rates_table(rates).set_index("metric")
    assert table.loc["seats", "growth_trend"] == pytest.approx(-0.00581)
    assert pd.isna(table.loc["tokens", "growth_trend"])
    assert table.loc["seats", "growth_middle"] == pytest.approx(-0.097)
    # a re-projection's rates without the trend columns: the table as before
    assert "growth_trend" not in road_ahead.rates_table(
        rates.drop(columns=["is_growth_trended", "growth_trend_slope"])
    )


def test_a_readout_difference_is_compact_from_ten_thousand_and_rounds_up_a_unit():
    # tokens per account: in full below ten thousand, then K and M as money reads them; 999,960
    # is 999.96K, which rounds to 1,000.0K, so it reads as the next unit, 1.0M
    assert pilot.difference_text("usage_per_account", 512.25) == "+512.2"
    assert pilot.difference_text("usage_per_account", -9_999) == "-9,999"
    assert pilot.difference_text("usage_per_account", 57_283) == "+57.3K"
    assert pilot.difference_text("usage_per_account", -4_829_077) == "-4.8M"
    assert pilot.difference_text("usage_per_account", 999_960) == "+1.0M"
    assert pilot.difference_text("usage_per_account", None) == MISSING


def test_the_plan_warns_where_a_proposal_may_not_be_piloted_for_either_reason():
    """Hybrid fails its guardrails in SMB, passes them in Mid-market where the segment crosses
    (triggered), and passes them in Enterprise, whose seats still track value (not triggered):
    the plan of every segment names SMB and Enterprise, each with its own reason; Mid-market's
    plan says nothing."""
    verdicts = pd.DataFrame(
        {
            "segment": ["smb", "mid_market", "enterprise"],
            "price_model_id": ["hybrid"] * 3,
            "is_proposal_viable": [False, True, True],
            "is_triggered": [False, True, False],
            "month": [datetime(2026, 10, 1)] * 3,
            "window_months": [12] * 3,
        }
    )
    said = decision.unpiloted_plan_text(
        verdicts, "hybrid", "Hybrid", ["smb", "mid_market", "enterprise"]
    )
    assert said is not None
    smb, enterprise = (decision.segment_label(s) for s in ("smb", "enterprise"))
    assert said.startswith(
        f"Hybrid fails the trigger's guardrails in {smb}; it passes them in {enterprise}, but "
        f"value is not leaving the seats there, so {enterprise} does not cross the trigger (12 "
        "months to Oct 2026)"
    )
    assert decision.segment_label("mid_market") not in said
    assert decision.unpiloted_plan_text(verdicts, "hybrid", "Hybrid", ["mid_market"]) is None


def test_the_plan_says_what_it_does_with_a_running_pilot():
    """Wave 0 and the held accounts, counted from the plan's rows: 2 accounts already on the
    proposal; 3 held, until Dec 2026 (two) and Feb 2027 (one, another pilot's)."""
    plan = pd.DataFrame(
        {
            "is_on_proposal": [True, True, False, False, False, False],
            "held_until_month": [
                None, None, None,
                datetime(2026, 12, 1), datetime(2026, 12, 1), datetime(2027, 2, 1),
            ],
        }
    )  # fmt: skip
    said = decision.running_pilot_plan_text(plan, 6)
    assert said == (
        " Wave 0 is the running pilot: 2 accounts already on the proposal, left where they are."
        " 3 accounts a pilot's readout follows (its control group, or another proposal's pilot)"
        " are held until their pilot's readout has 6 months after the switch"
        " (Dec 2026 .. Feb 2027)."
    )
    alone = decision.running_pilot_plan_text(plan.iloc[3:4].reset_index(drop=True), 6)
    assert alone.endswith(
        "is held until its pilot's readout has 6 months after the switch (Dec 2026)."
    )
    assert decision.running_pilot_plan_text(plan.iloc[2:3], 6) == ""


def test_a_rate_beside_its_limit_never_reads_as_the_limit_when_it_is_not():
    # Regression: 0.049741 beside a 5% limit read "5.0%", as if it were at the limit.
    assert percent_against(0.049741, 0.05) == "4.97%"
    assert percent_against(0.0502, 0.05) == "5.02%"  # above it never reads as equal either
    assert percent_against(0.0499999, 0.05) == "4.99999%"
    # away from every limit, or exactly at one, as percent writes it
    assert percent_against(0.0733, 0.05) == percent(0.0733) == "7.3%"
    assert percent_against(0.05, 0.05) == "5.0%"
    # a range: on the right side of both of its ends
    assert percent_against(0.14996, -0.05, 0.15) == "14.996%"
    assert percent_against(-0.05004, -0.05, 0.15) == "-5.004%"
    assert percent_against(0.03, None) == "3.0%"
    assert percent_against(None, 0.05) == "—"


def test_a_guardrail_verdict_never_says_a_rate_at_its_limit_is_above_it():
    """0.0502 against a 5% limit broke it: the sentence says 5.02%, not "5.0% is above 5%"."""
    row = pd.Series(
        {
            "bill_shock_rate": 0.0502,
            "max_bill_shock_rate": 0.05,
            "revenue_delta_pct": 0.1,
            "min_revenue_delta_pct": -0.05,
            "max_revenue_delta_pct": 0.15,
            "is_passing": False,
        }
    )
    assert shaping.guardrail_verdict(row) == "fails: bill-shock rate 5.02% is above 5%"


def test_the_shown_pilot_list_says_why_an_account_may_not_pilot_in_its_may_pilot_column():
    pilots = pd.DataFrame(
        {
            "fit_rank": [1, 2],
            "account_id": ["acc_1", "acc_2"],
            "account_name": ["One", "Two"],
            "is_pilot_eligible": [True, False],
            "fit_score": [0.7, 0.6],
            "bill_change_pct": [-0.1, 0.3],
            "automation_share": [0.5, 0.4],
            "margin_change": [-0.015, 0.02],
            "actual_usd": [100.0, 200.0],
            "shadow_usd": [90.0, 260.0],
            "shocked_months": [0, 0],
            "billable_seats": [10, 20],
            "ineligible_reason": [None, "bill rises more than the limit"],
        }
    )
    shown = decision.pilot_shown(decision.pilot_table(pilots))
    assert list(shown.columns) == list(decision.PILOT_SHOWN_COLUMNS)
    assert list(shown["May pilot"]) == ["yes", "no: bill rises more than the limit"]
    assert list(shown["Margin change (points)"]) == pytest.approx([-1.5, 2.0])
    # a change that rounds to nothing reads +0.0, not -0.0 (-0.0004 of margin is -0.04 points)
    near_zero = decision.margin_points_shown(pd.Series([-0.04, 0.04, -0.05, None]))
    assert [f"{points:+.1f}" for points in near_zero[:3]] == ["+0.0", "+0.0", "-0.1"]
    assert pd.isna(near_zero[3])
    # the columns fit the page's content width at 1280 px (820 px beside the sidebar)
    assert sum(decision.PILOT_SHOWN_COLUMNS.values()) <= 820
