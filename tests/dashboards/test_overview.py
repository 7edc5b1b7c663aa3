"""The Overview (journey 1) and the decision pack, against the real sample warehouse: the cards,
proposals and pilot list equal the marts; the threshold what-if equals fct_migration_triggers
rebuilt by dbt with the same vars; `seatshift report` writes the pack with the page's numbers."""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT
from tests.dashboards._support import (
    ENTRYPOINT,
    SEGMENT_LABELS,
    decision_pack,
    published_months,
    published_warehouse,
)

DBT = Path(sys.executable).with_name("dbt")
SEATSHIFT = Path(sys.executable).with_name("seatshift")
VERDICT = ["is_value_leaving", "is_proposal_viable", "proposal_failure_reason", "is_triggered",
           "triggered_since", "segment_status"]  # fmt: skip
# Looser than the defaults, so the what-if moves statuses on the small sample: automation share
# from 15%, NRR below 130% counts as weak expansion, bill shock up to 12%, revenue -80%..+15%.
WHAT_IF = {
    "trigger_automation_share_min": 0.15,
    "trigger_nrr_max": 1.3,
    "guardrail_max_bill_shock_rate": 0.12,
    "guardrail_min_revenue_delta_pct": -0.8,
}


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def run_overview(monkeypatch: pytest.MonkeyPatch, warehouse: Path, **state) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def latest_statuses(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return dict(
            conn.execute(
                """
                select distinct segment, segment_status from marts.fct_migration_triggers
                where month = (select max(month) from marts.fct_migration_triggers)
                    and segment <> 'all'
                """
            ).fetchall()
        )


def badges(app: AppTest) -> list[str]:
    """The status badges of the cards, in order: st.badge renders `:red-badge[:icon: Label]`."""
    return [
        element.value.rsplit(" ", 1)[-1].rstrip("]")
        for element in app.markdown
        if "-badge[" in element.value
    ]


def pilot_table(app: AppTest) -> pd.DataFrame:
    (table,) = [frame.value for frame in app.dataframe if "Fit score" in frame.value.columns]
    return table


def test_the_overview_is_the_landing_page_and_its_cards_equal_the_mart(sample, monkeypatch):
    app = run_overview(monkeypatch, sample)
    assert not app.exception
    assert app.title[0].value == "Overview"
    statuses = latest_statuses(sample)
    with duckdb.connect(str(sample), read_only=True) as conn:
        shares = dict(
            conn.execute(
                """
                select segment, sum(agent_tasks) / sum(tasks) from marts.fct_account_month
                where month = (select max(month) from marts.fct_account_month)
                group by segment
                """
            ).fetchall()
        )  # pooled automation share, recomputed from the account-months
    cards = [metric.value for metric in app.metric if metric.label == "Automation share (segment)"]
    segments = ["smb", "mid_market", "enterprise"]
    assert cards == [f"{shares[segment] * 100:.1f}%" for segment in segments]
    markdown = "\n".join(element.value for element in app.markdown)
    for name in ("SMB", "Mid-market", "Enterprise"):  # the glossary's labels (segment_<id>)
        assert f"**{name}**" in markdown
    # the sample's story: mid_market has crossed, the others have not
    assert statuses["mid_market"] == "crossed"
    assert badges(app) == [statuses[segment].capitalize() for segment in segments]
    assert app.subheader[0].value.startswith("Mid-market: crossed the trigger in")


def test_the_proposals_and_the_pilot_list_equal_the_marts(sample, monkeypatch):
    app = run_overview(monkeypatch, sample)
    proposals, pilot = app.dataframe[1].value, pilot_table(app)
    with duckdb.connect(str(sample), read_only=True) as conn:
        verdicts = conn.execute(
            """
            select models.name, triggers.is_proposal_viable, triggers.revenue_delta_pct,
                triggers.is_triggered
            from marts.fct_migration_triggers as triggers
            join marts.dim_price_models as models using (price_model_id)
            where triggers.segment = 'mid_market'
                and triggers.month = (select max(month) from marts.fct_migration_triggers)
            order by abs(triggers.revenue_delta_pct), triggers.price_model_id
            """
        ).fetchall()
        # a pilot list is offered for a proposal that passes the trigger, closest to no change first
        passing = [name for name, _, _, triggered in verdicts if triggered]
        ranked = conn.execute(
            """
            select account_id, fit_score from marts.fct_pilot_accounts
            where segment = 'mid_market' and price_model_id = ?
            order by fit_rank
            """,
            [app.selectbox[0].value],
        ).fetchall()
    shown = dict(zip(proposals["Proposal"], proposals["Verdict"], strict=True))
    assert shown == {name: "passes" if viable else "fails" for name, viable, _, _ in verdicts}
    for name, _, delta, _ in verdicts:
        row = proposals[proposals["Proposal"] == name].iloc[0]
        assert row["Revenue change"] == pytest.approx(delta)
    assert passing, "the sample's mid_market has a passing proposal"
    # the pilot list uses the passing proposal and shows the mart's ranking
    assert app.selectbox[0].format_func(app.selectbox[0].value).startswith(passing[0])
    assert list(pilot["Account"]) == [account for account, _ in ranked][: len(pilot)]
    assert list(pilot["Fit score"]) == pytest.approx([score for _, score in ranked][: len(pilot)])
    assert not app.exception


def test_the_pilot_lists_count_shares_its_base_with_the_revenue_under_choice(
    sample, monkeypatch, tmp_path
):
    """The pilot list's caption counts out of the accounts paying at the trigger's month, the base
    the revenue-under-choice table says ("N of M switch"); the accounts billed earlier in the window
    that pay nothing now, and every other reason, are named with their counts from the mart; the
    decision pack's pilot list says the same."""
    app = run_overview(monkeypatch, sample)
    model = app.selectbox[0].value
    with duckdb.connect(str(sample), read_only=True) as conn:
        (base,) = conn.execute(
            """
            select accounts from marts.fct_customer_choice_by_segment
            where segment = 'mid_market' and price_model_id = ?
            """,
            [model],
        ).fetchone()
        eligible, lapsed, month = conn.execute(
            """
            select count(*) filter (where is_pilot_eligible), count(*) filter (where not is_active),
                any_value(as_of_month)
            from marts.fct_pilot_accounts
            where segment = 'mid_market' and price_model_id = ?
            """,
            [model],
        ).fetchone()
        reasons = conn.execute(
            """
            select ineligible_reason, count(*) from marts.fct_pilot_accounts
            where segment = 'mid_market' and price_model_id = ? and is_active
                and ineligible_reason is not null
            group by all
            """,
            [model],
        ).fetchall()
    caption = next(c.value for c in app.caption if "may pilot" in c.value)
    assert caption.startswith(
        f"{eligible} of the {base} accounts of Mid-market paying at {month:%b %Y} may pilot "
    )
    were, pay = ("was", "pays") if lapsed == 1 else ("were", "pay")
    assert (f"; {lapsed} more {were} billed in the window and {pay} nothing now" in caption) == (
        lapsed > 0
    )
    for reason, accounts in reasons:
        assert f"{reason} ({accounts})" in caption
    assert not app.exception
    pack = decision_pack(sample, tmp_path, "mid_market", model)
    pilot_section = pack[pack.index("<h2>Pilot list: ") :]
    assert html.escape(caption.split(" The best ")[0]) in pilot_section


def test_every_segment_can_be_looked_into_without_a_traceback(sample, monkeypatch):
    for segment in ("smb", "enterprise", "mid_market"):
        app = run_overview(monkeypatch, sample, focus=segment)
        assert not app.exception, segment
        assert app.subheader[0].value.startswith(SEGMENT_LABELS[segment])


def test_a_link_naming_ids_draws_its_widgets_without_streamlits_duplicate_default_warning(
    sample, monkeypatch
):
    """`?focus=enterprise&period=...` seeds the widgets' state from the ids before they are drawn;
    a widget also given a default would make Streamlit log a warning with a stack on the server
    (once per process, hence the flag reset)."""
    with duckdb.connect(str(sample), read_only=True) as conn:
        first, last = conn.execute(
            "select min(month), max(month) from marts.fct_account_month"
        ).fetchone()
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    policies._LOGGER.addHandler(handler)
    try:
        monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(sample))
        app = AppTest.from_file(ENTRYPOINT, default_timeout=60)
        app.query_params["focus"] = "enterprise"
        app.query_params["period"] = [f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"]
        app.run()
    finally:
        policies._LOGGER.removeHandler(handler)
    assert not app.exception, app.exception
    assert app.subheader[0].value.startswith("Enterprise: ")
    assert app.select_slider(key="period").value == (first, last)
    assert not [text for text in warnings if "Session State API" in text], warnings


@pytest.mark.parametrize("months", [2, 1])
def test_a_link_naming_the_period_by_id_keeps_it_on_the_next_run(sample, monkeypatch, months):
    # `?period=2026-05-01&period=2026-10-01` seeded the slider's state and drew it without a
    # default, so Streamlit took it for a one-value slider: the next run (any click) read one
    # date and failed ("'datetime.date' object is not iterable"), and a link naming one month
    # failed at once ("tuple index out of range"). The linked months are now the range's
    # default: two runs, no exception, the period the link named (one month: from it to it).
    listed = published_months(sample)
    linked = [listed[1], listed[-2]][:months]
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(sample))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    app.query_params["period"] = [f"{month:%Y-%m-%d}" for month in linked]
    app.run()
    app.run()  # what a click does

    assert not app.exception, app.exception
    assert app.select_slider(key="period").value == (linked[0], linked[-1])


def _rebuilt_with_vars(sample: Path, folder: Path, variables: dict) -> pd.DataFrame:
    """fct_migration_triggers as `dbt run --vars` builds it on a copy of the warehouse."""
    copy = folder / "rebuilt.duckdb"
    shutil.copyfile(sample, copy)
    env = {**os.environ, "SEATSHIFT_DBT_DATABASE": str(copy)}
    command = [
        str(DBT), "run", "--target", "prod", "--select", "fct_migration_triggers",
        "--vars", json.dumps(variables),
        "--project-dir", str(REPO_ROOT / "dbt_project"),
        "--profiles-dir", str(REPO_ROOT / "dbt_project"),
        "--target-path", str(folder / "target"),
        "--log-path", str(folder / "logs"),
    ]  # fmt: skip
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(copy), read_only=True) as conn:
        return conn.execute(
            "select * from marts.fct_migration_triggers order by segment, month, price_model_id"
        ).df()


def test_the_threshold_what_if_equals_the_mart_rebuilt_with_the_same_vars(
    sample, monkeypatch, tmp_path
):
    """The page's what-if (the build's rpt_trigger_sql over its signals) and a dbt rebuild with
    the same --vars agree on every verdict column of every row, and the what-if moved something
    (so the comparison is not of two unchanged tables)."""
    rebuilt = _rebuilt_with_vars(sample, tmp_path, WHAT_IF)
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(sample))
    dashboards = str(Path(ENTRYPOINT).parent)
    monkeypatch.syspath_prepend(dashboards)
    from dashboards.lib import queries

    what_if = queries.trigger_what_if(tuple(WHAT_IF.items()))
    as_built = queries.migration_triggers()
    keys = ["segment", "month", "price_model_id"]
    assert len(what_if) == len(rebuilt) == len(as_built)
    merged = what_if.merge(rebuilt, on=keys, suffixes=("_page", "_dbt"))
    assert len(merged) == len(rebuilt)
    for column in VERDICT:
        page, dbt = merged[f"{column}_page"], merged[f"{column}_dbt"]
        differs = ~((page == dbt) | (page.isna() & dbt.isna()))
        assert not differs.any(), (column, merged.loc[differs, keys].head().to_dict("records"))
    moved = (what_if["segment_status"] != as_built["segment_status"]).sum()
    assert moved > 0

    # and the page itself, with the same thresholds typed into the sidebar (in percent)
    state = {f"whatif_{name}": value * 100 for name, value in WHAT_IF.items()}
    app = run_overview(monkeypatch, sample, **state)
    assert not app.exception
    latest = rebuilt[rebuilt["month"] == rebuilt["month"].max()]
    expected = {
        segment: status
        for segment, status in latest[["segment", "segment_status"]].drop_duplicates().values
        if segment != "all"
    }
    assert badges(app) == [expected[s].capitalize() for s in ("smb", "mid_market", "enterprise")]
    assert any("What-if" in info.value for info in app.info)


def test_seatshift_report_writes_one_self_contained_pack_with_the_pages_numbers(
    sample, monkeypatch, tmp_path
):
    out = tmp_path / "pack"
    completed = subprocess.run(
        [str(SEATSHIFT), "report", "--out", str(out), "--warehouse", str(sample)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    (pack,) = list(out.iterdir())
    assert pack.name == "seatshift_decision_pack_mid_market_hybrid_seat_plus_tokens.html"
    html = pack.read_text(encoding="utf-8")
    # self-contained: no script, style, frame or image is fetched from anywhere
    assert external_references(html) == []
    app = run_overview(monkeypatch, sample)
    for metric in app.metric:  # the cards' automation shares
        assert metric.value in html
    pilot = pilot_table(app)
    for account in pilot["Account"].head(10):
        assert account in html
    for heading in ("Trigger status by segment", "Evidence: Mid-market", "Pilot list",
                    "Settings in force", "Data quality", "Shadow billing"):  # fmt: skip
        assert heading in html


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.found.append(f"<{tag} {name}={value}>")


def external_references(html: str) -> list[str]:
    """Every src or href of the document's tags (a script's own text is not parsed as tags)."""
    parser = _References()
    parser.feed(html)
    return parser.found


def test_report_fails_in_one_line_without_a_warehouse(tmp_path):
    completed = subprocess.run(
        [str(SEATSHIFT), "report", "--out", str(tmp_path), "--warehouse", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert completed.stderr.strip().count("\n") == 0
    assert "no published warehouse" in completed.stderr


def test_the_pack_takes_a_segment_by_its_name_and_refuses_one_it_does_not_know(sample, tmp_path):
    # the pages print "Mid-market"; the command took only the id, and an unknown one ended in a
    # traceback (a segment) or a pack of nothing (a proposal)
    html = decision_pack(sample, tmp_path / "by_name", "Mid-market", "hybrid_seat_plus_tokens")
    assert "<h1>seatshift decision pack: Mid-market</h1>" in html
    for flag, value in (("--segment", "bogus"), ("--price-model", "bogus")):
        refused = subprocess.run(
            [str(SEATSHIFT), "report", "--out", str(tmp_path / "no"), "--warehouse", str(sample),
             flag, value],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert refused.returncode == 1, refused.stdout
        assert refused.stderr.startswith("report failed: This build has no ")
        assert "mid_market (Mid-market)" in refused.stderr or "per_token (" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not (tmp_path / "no").exists()
