"""The Pilot page and the pack's pilot section judge the forecast too (AppTest and `seatshift
report` against the real sample warehouse): the prediction made at the switch beside what happened
equals an independent computation from the sample's assignments export, each pilot account's MRR
(fct_account_month) and its shadow invoices under the piloted model (fct_shadow_invoice), and the
page and the pack show those figures."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib.format import money
from orchestration.lib.settings import SEEDS_DIR
from tests.dashboards._support import ENTRYPOINT, decision_pack, published_warehouse

PILOT_PAGE = "app_pages/pilot.py"
HISTORY_MONTHS = 6  # readout_history_months' default (dbt_project.yml)


@pytest.fixture
def sample(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = published_warehouse(request)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return warehouse


def _pilots() -> dict[str, tuple[str, date]]:
    """account -> (piloted model, month of its earliest pilot assignment), from the export."""
    pilots: dict[str, tuple[str, date]] = {}
    with (SEEDS_DIR / "price_model_assignments__billing.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["cohort"] != "pilot":
                continue
            month = date.fromisoformat(row["effective_from"][:7] + "-01")
            known = pilots.get(row["account_id"])
            if known is None or month < known[1]:
                pilots[row["account_id"]] = (row["price_model_id"], month)
    return pilots


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _independent(warehouse: Path) -> dict[str, dict[str, Decimal | int]]:
    """Per pilot account: the mean MRR and the mean shadow bill under its piloted model over its
    paying months among the HISTORY_MONTHS before its switch month, and its mean MRR over its
    paying months from the switch month on, in Decimal."""
    figures: dict[str, dict[str, Decimal | int]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for account, (model, switch) in _pilots().items():
            months = conn.execute(
                "select month, mrr_usd from marts.fct_account_month where account_id = ?",
                [account],
            ).fetchall()
            shadow = dict(
                conn.execute(
                    "select month, shadow_usd from marts.fct_shadow_invoice "
                    "where account_id = ? and price_model_id = ?",
                    [account, model],
                ).fetchall()
            )
            start = _months_back(switch, HISTORY_MONTHS)
            before = [(m, mrr) for m, mrr in months if start <= m < switch and mrr > 0]
            after = [mrr for m, mrr in months if m >= switch and mrr > 0]
            figures[account] = {
                "months_before": len(before),
                "months_after": len(after),
                "mrr_before": sum(mrr for _, mrr in before) / len(before),
                "predicted": sum(shadow.get(m, Decimal(0)) for m, _ in before) / len(before),
                "after": sum(after) / len(after) if after else None,
            }
    return figures


def _mart(warehouse: Path) -> dict[str | None, dict]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        cursor = conn.execute("select * from marts.fct_pilot_prediction")
        names = [column[0] for column in cursor.description]
        return {
            row[names.index("account_id")]: dict(zip(names, row, strict=True))
            for row in cursor.fetchall()
        }


def test_the_prediction_at_the_switch_equals_an_independent_computation(sample):
    expected, mart = _independent(sample), _mart(sample)
    assert set(mart) - {None} == set(expected) and len(expected) >= 2
    cent = Decimal("0.0001")
    for account, figures in expected.items():
        row = mart[account]
        assert row["months_before"] == figures["months_before"] > 0, account
        assert row["months_after"] == figures["months_after"], account
        assert row["mrr_before_usd"] == figures["mrr_before"].quantize(cent), account
        assert row["predicted_mrr_usd"] == figures["predicted"].quantize(cent), account
        if figures["after"] is None:
            assert row["mrr_after_usd"] is None
        else:
            assert row["mrr_after_usd"] == figures["after"].quantize(cent), account
            # the ratio of the two averages as published (to the hundredth of a cent)
            error = (
                float(figures["after"].quantize(cent)) / float(figures["predicted"].quantize(cent))
                - 1
            )
            assert row["prediction_error_pct"] == pytest.approx(error, abs=1e-9)
    # the whole pilot sums the accounts that paid both before and after
    paid = [f for f in expected.values() if f["months_after"] > 0]
    whole = mart[None]
    assert whole["accounts"] == len(paid)
    for column, key in (("predicted_mrr_usd", "predicted"), ("mrr_after_usd", "after")):
        total = sum(f[key].quantize(cent) for f in paid)
        assert abs(whole[column] - total) <= cent * len(paid), column


def test_the_pilot_page_shows_the_prediction_beside_what_happened(sample):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(PILOT_PAGE).run()
    assert not app.exception, app.exception
    assert "Predicted at the switch, and what happened" in [s.value for s in app.subheader]
    mart = _mart(sample)
    table = next(
        frame.value
        for frame in app.dataframe
        if "Paid against predicted" in frame.value.columns and "Paid since" in frame.value.columns
    )
    assert table.iloc[0]["Account"] == "The whole pilot"
    assert table.iloc[0]["Predicted"] == money(float(mart[None]["predicted_mrr_usd"]))
    assert table.iloc[0]["Paid since"] == money(float(mart[None]["mrr_after_usd"]))
    assert len(table) == len(mart)


def test_the_pack_judges_the_forecast_of_the_pilot(sample, tmp_path):
    html = decision_pack(sample, tmp_path / "pack", "mid_market", "hybrid_seat_plus_tokens")
    whole = _mart(sample)[None]
    assert "Predicted at the switch, and what happened" in html
    assert money(float(whole["predicted_mrr_usd"])) in html
    assert money(float(whole["mrr_after_usd"])) in html


def test_the_match_table_flags_each_feature_against_the_bar_in_force(sample):
    """The close-match bar is the build's setting, not a number typed on the page: the page's
    sentence names it and counts the features within it, and each row's flag is the published
    standardised difference set against it (recomputed here from the two arms' means and
    variances would repeat the model; the model's own arithmetic is the dbt unit test's)."""
    with duckdb.connect(str(sample), read_only=True) as conn:
        (bar,) = conn.execute(
            "select cast(value as double) from marts.rpt_settings "
            "where name = 'pilot_match_max_standardised_difference'"
        ).fetchone()
        rows = conn.execute(
            "select feature, standardised_difference, is_close_match "
            "from marts.fct_pilot_match_quality where pilot_model_id = ? order by feature",
            ["hybrid_seat_plus_tokens"],
        ).fetchall()
    assert rows
    for feature, difference, is_close in rows:
        assert is_close == (None if difference is None else abs(difference) <= bar), feature
    judged = [is_close for _, _, is_close in rows if is_close is not None]

    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(PILOT_PAGE).run()
    assert not app.exception, app.exception
    verb = "is" if sum(judged) == 1 else "are"
    sentence = f"within {bar:g} either way: {sum(judged)} of {len(judged)} features {verb}."
    assert any(sentence in caption.value for caption in app.caption), sentence
    assert not any("0.1 either way is a close match" in c.value for c in app.caption)
    table = next(f.value for f in app.dataframe if "Close match" in f.value.columns)
    assert list(table["Close match"]) == [
        "—" if is_close is None else ("yes" if is_close else "no") for _, _, is_close in rows
    ]


def test_a_build_older_than_the_dashboard_says_to_refresh(sample, tmp_path, monkeypatch):
    # A build published before a mart gained a column (here is_close_match) made the Pilot page
    # say only "Could not read the control group's match." It now says why, and what to do.
    import shutil

    older = tmp_path / "seatshift.duckdb"
    shutil.copyfile(sample, older)
    with duckdb.connect(str(older)) as conn:
        conn.execute("alter table marts.fct_pilot_match_quality drop column is_close_match")
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(older))

    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(PILOT_PAGE).run()

    assert not app.exception, app.exception
    warnings = [warning.value for warning in app.warning]
    assert any(
        warning.startswith("Could not read the control group's match. The published "
                         "warehouse lacks it: a build older than this version of the dashboard")
        for warning in warnings
    ), warnings  # fmt: skip
