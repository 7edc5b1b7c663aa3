"""Customer choice on the Overview, the Shadow billing page and in the decision pack (AppTest and
`seatshift report` against the real sample warehouse): the revenue under the forced switch and
under choice, per segment, equal fct_customer_choice_by_segment; the accounts that would switch
(or stay) equal fct_customer_choice, and those that stay add up to the adverse selection."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import queries
from dashboards.lib.format import money
from tests.dashboards._support import (
    ENTRYPOINT,
    SEGMENT_LABELS,
    decision_pack,
    published_warehouse,
)

SHADOW_BILLING = "app_pages/shadow_billing.py"
LABELS = ("Would switch", "Forced switch", "Under choice", "Adverse selection", "If nobody moves")


@pytest.fixture
def sample(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse = published_warehouse(request)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    return warehouse


def _by_segment(warehouse: Path, model: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return (
            conn.execute(
                """
                select segment, accounts, switching_accounts, current_usd, forced_switch_usd,
                    choice_usd, adverse_selection_usd
                from marts.fct_customer_choice_by_segment where price_model_id = ?
                """,
                [model],
            )
            .df()
            .set_index("segment")
        )


def _label(segment: str) -> str:
    return SEGMENT_LABELS[segment]


def _choice_table(app: AppTest) -> pd.DataFrame:
    (table,) = [frame.value for frame in app.dataframe if set(LABELS) <= set(frame.value.columns)]
    return table


def _assert_row_equals_the_mart(shown: pd.Series, row: pd.Series) -> None:
    """A row as the reader sees it ("115 of 286", "$3.0M (+21.1%)") against the mart's numbers."""
    switching, accounts = int(row["switching_accounts"]), int(row["accounts"])
    assert shown["Would switch"] == f"{switching:,} of {accounts:,}"
    assert shown["If nobody moves"] == money(float(row["current_usd"]))
    assert shown["Forced switch"].startswith(money(float(row["forced_switch_usd"])) + " (")
    assert shown["Under choice"].startswith(money(float(row["choice_usd"])) + " (")
    assert shown["Adverse selection"] == money(float(row["adverse_selection_usd"]))


def _assert_rows_equal_the_mart(table: pd.DataFrame, mart: pd.DataFrame) -> None:
    assert len(table) == len(mart)
    for segment, row in mart.iterrows():
        (shown,) = [r for _, r in table.iterrows() if r["Segment"] == _label(segment)]
        _assert_row_equals_the_mart(shown, row)


def test_the_overview_states_forced_and_choice_revenue_of_the_recommended_proposal(sample):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    assert not app.exception
    recommended = app.selectbox[0].value  # the pilot list's proposal: the Overview's suggestion
    mart = _by_segment(sample, recommended)
    _assert_rows_equal_the_mart(_choice_table(app), mart)
    # the focus segment's figures as cards, worded by the glossary
    focus = mart.loc["mid_market"]
    cards = {metric.label: metric.value for metric in app.metric}
    assert cards["Forced switch"] == money(float(focus["forced_switch_usd"]))
    assert cards["Under choice"] == money(float(focus["choice_usd"]))
    assert cards["Adverse selection"] == money(float(focus["adverse_selection_usd"]))
    heading = app.selectbox[0].format_func(recommended)
    assert any(
        f"{heading}: forced switch or offered beside the seats · Mid-market" in md.value
        for md in app.markdown
    )


def test_shadow_billing_shows_choice_beside_each_proposal_and_the_accounts_that_switch(sample):
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    app.switch_page(SHADOW_BILLING).run()
    assert not app.exception
    table = _choice_table(app)  # every proposal, all segments pooled (the sidebar's default)
    with duckdb.connect(str(sample), read_only=True) as conn:
        names = dict(
            conn.execute("select price_model_id, name from marts.dim_price_models").fetchall()
        )
        choices = conn.execute(
            """
            select account_id, price_model_id, saving_usd, is_choosing_proposal,
                proposal_usd - current_usd as paid_more_by_force
            from marts.fct_customer_choice
            """
        ).df()
    proposals = choices["price_model_id"].unique()
    assert len(table) == len(proposals)
    for model in proposals:
        (shown,) = [r for _, r in table.iterrows() if r["Proposal"].startswith(names[model])]
        _assert_row_equals_the_mart(shown, _by_segment(sample, model).loc["all"])
    # each proposal's verdict cards carry the same figures per segment
    captions = [caption.value for caption in app.caption]
    for model in proposals:
        for segment, row in _by_segment(sample, model).drop(index="all").iterrows():
            line = (
                f"As an option: {money(float(row['choice_usd']))} under choice vs. "
                f"{money(float(row['forced_switch_usd']))} forced"
            )
            assert any(caption.startswith(line) for caption in captions), (model, segment)
    (model,) = [box.value for box in app.selectbox if box.label == "Accounts offered"]
    switching = choices[(choices["price_model_id"] == model) & choices["is_choosing_proposal"]]
    accounts = next(frame.value for frame in app.dataframe if "Saves" in frame.value.columns)
    assert sorted(accounts["Account"]) == sorted(switching["account_id"])
    assert list(accounts["Saves"]) == sorted(accounts["Saves"], reverse=True)
    assert (accounts["Saves"] > 0).all() and accounts["Name"].str.len().gt(0).all()

    # the accounts that stay: what they would have paid more by force is the adverse selection
    app.segmented_control(key="choice_accounts").set_value("Would stay").run()
    assert not app.exception
    staying = next(frame.value for frame in app.dataframe if "Saves" in frame.value.columns)
    stayers = choices[(choices["price_model_id"] == model) & ~choices["is_choosing_proposal"]]
    assert sorted(staying["Account"]) == sorted(stayers["account_id"])
    whole_base = _by_segment(sample, model).loc["all"]
    assert float(stayers["paid_more_by_force"].sum()) == pytest.approx(
        float(whole_base["adverse_selection_usd"]), abs=1e-6
    )
    assert -staying["Saves"].sum() == pytest.approx(float(whole_base["adverse_selection_usd"]))


def test_the_decision_pack_states_forced_and_choice_revenue_per_segment(sample, tmp_path):
    html = decision_pack(sample, tmp_path / "pack", "mid_market", "hybrid_seat_plus_tokens")
    mart = _by_segment(sample, "hybrid_seat_plus_tokens")
    assert "forced switch or offered beside the seats" in html
    for segment, row in mart.iterrows():
        assert f"<td>{_label(segment)}</td>" in html
        for column in ("forced_switch_usd", "choice_usd", "adverse_selection_usd"):
            assert money(float(row[column])) in html, (segment, column)


def _marts_choice(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return (
            conn.execute(
                "select * from marts.fct_customer_choice order by customer_choice_id"
            ).df(),
            conn.execute(
                "select * from marts.fct_customer_choice_by_segment"
                " order by customer_choice_segment_id"
            ).df(),
        )


def test_the_what_if_on_the_shipped_book_weighs_every_proposal_as_the_marts_do(sample):
    # the what-if runs the build's own choice SQL (rpt_rating_sql) over its re-rating: with
    # nothing edited it is fct_customer_choice and its sums by segment, every column and row
    models, components, tiers = queries.full_price_book()
    rerated = queries.what_if(components, tiers, model_caps=models)
    choices, by_segment = _marts_choice(sample)
    assert len(choices) > 0 and choices["is_choosing_proposal"].any()
    pd.testing.assert_frame_equal(rerated["choice"], choices)
    pd.testing.assert_frame_equal(rerated["choice_by_segment"], by_segment)


HYBRID = "hybrid_seat_plus_tokens"


def test_an_edited_proposal_is_weighed_as_an_option_by_the_build_rule_on_the_page(sample):
    """A hard cap of $300 a month on the hybrid's whole bill makes it cheaper for its largest
    accounts, so more of them would take it: the page's choice row for the edited hybrid is the
    what-if's (the build's rule over the edited book), not the build's."""
    components, tiers = queries.price_book(HYBRID)
    capped = pd.DataFrame([{"price_model_id": HYBRID, "cap_amount": "300", "cap_policy": "hard"}])
    expected = queries.what_if(components, tiers, model_caps=capped)["choice_by_segment"]
    expected = expected.set_index("segment").loc["all"]
    built = _by_segment(sample, HYBRID).loc["all"]
    assert int(expected["switching_accounts"]) > int(built["switching_accounts"])

    app = AppTest.from_file(ENTRYPOINT, default_timeout=120).run()
    app.switch_page(SHADOW_BILLING).run()
    app.selectbox(key="what_if_model").set_value(HYBRID).run()
    app.text_input(key=f"what_if_cap_{HYBRID}").set_value("300").run()
    assert not app.exception, app.exception

    table = _choice_table(app)
    (shown,) = [row for _, row in table.iterrows() if "(edited)" in row["Proposal"]]
    assert shown["Proposal"].startswith("Hybrid")
    _assert_row_equals_the_mart(shown, expected)
    assert any("is weighed as edited" in caption.value for caption in app.caption)
    # the accounts offered the edited hybrid (the recommended proposal, selected) are the
    # what-if's switchers
    assert app.selectbox(key="choice_model").value == HYBRID
    accounts = next(frame.value for frame in app.dataframe if "Saves" in frame.value.columns)
    assert len(accounts) == int(expected["switching_accounts"])


def test_the_decision_pack_states_the_projection_forced_and_under_choice(sample, tmp_path):
    html = decision_pack(sample, tmp_path / "pack", "mid_market", HYBRID)
    with duckdb.connect(str(sample), read_only=True) as conn:
        forced, chosen = conn.execute(
            """
            select sum(projected_revenue_usd), sum(projected_choice_revenue_usd)
            from marts.fct_revenue_projection
            where segment = 'mid_market' and price_model_id = ? and scenario = 'middle'
                and months_ahead between 1 and 12
            """,
            [HYBRID],
        ).fetchone()
    assert forced != chosen  # some mid-market accounts would refuse the hybrid
    assert "forced switch or offered as an option" in html
    assert money(float(forced)) in html
    assert money(float(chosen)) in html
