"""The dashboard run in-process with AppTest, against real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards._support import ENTRYPOINT, private_copy, published_warehouse, write_status


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def run_app(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(warehouse))
    app = AppTest.from_file(ENTRYPOINT, default_timeout=30).run()
    return app.switch_page("app_pages/data_health.py").run()


def texts(app: AppTest) -> str:
    elements = [*app.markdown, *app.caption, *app.error, *app.warning, *app.info, *app.success]
    return "\n".join(str(element.value) for element in elements)


def metric_values(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_data_health_shows_the_as_of_time_of_the_published_warehouse(sample, monkeypatch):
    with duckdb.connect(str(sample), read_only=True) as connection:
        (as_of,) = connection.execute("select max(data_as_of) from marts.rpt_data_as_of").fetchone()

    app = run_app(monkeypatch, sample)

    assert not app.exception
    assert app.title[0].value == "Data health"
    assert "Data as of" in [caption.value for caption in app.caption]
    assert f"**{as_of:%Y-%m-%d %H:%M} UTC**" in [markdown.value for markdown in app.markdown]


def test_kpis_equal_an_independent_count_of_the_latest_refresh(sample, monkeypatch):
    # Counted from other columns than the page uses where the contract allows it: quarantined rows
    # from audit.quarantine itself (one row per quarantined record), not load_report's sums.
    with duckdb.connect(str(sample), read_only=True) as connection:
        (refresh_id,) = connection.execute(
            "select arg_max(refresh_id, finished_at) from audit.refresh_log"
        ).fetchone()
        files_loaded, rows_loaded = connection.execute(
            "select count(*) filter (where status = 'loaded'), coalesce(sum(rows_loaded), 0) "
            "from audit.load_report where refresh_id = ?",
            [refresh_id],
        ).fetchone()
        (rows_quarantined,) = connection.execute(
            "select count(*) from audit.quarantine where refresh_id = ?", [refresh_id]
        ).fetchone()
        (expectations_failed,) = connection.execute(
            "select count(*) from audit.expectation_results where refresh_id = ? and not success",
            [refresh_id],
        ).fetchone()

    app = run_app(monkeypatch, sample)

    assert not app.exception
    assert metric_values(app) == {
        "Files loaded": f"{files_loaded:,}",
        "Rows loaded": f"{rows_loaded:,}",
        "Rows quarantined": f"{rows_quarantined:,}",
        "Expectations failed": f"{expectations_failed:,}",
    }


def test_a_failed_last_refresh_shows_its_reason_while_the_last_good_build_keeps_serving(
    sample, tmp_path, monkeypatch
):
    warehouse = private_copy(sample, tmp_path)
    write_status(warehouse, "failed", "2099-01-01T06:01:00Z", "critical expectation failed")

    app = run_app(monkeypatch, warehouse)

    assert not app.exception
    assert len(app.error) == 1
    assert "The last refresh failed at 2099-01-01 06:01 UTC" in app.error[0].value
    assert "critical expectation failed" in app.error[0].value
    assert "last good build" in app.error[0].value
    assert len(app.metric) == 4  # the page itself still renders from the published build


def test_data_older_than_two_days_before_the_last_refresh_is_called_stale(
    sample, tmp_path, monkeypatch
):
    warehouse = private_copy(sample, tmp_path)
    write_status(warehouse, "published", "2099-01-01T06:01:00Z", None)

    app = run_app(monkeypatch, warehouse)

    assert not app.exception
    assert any("The data is stale" in warning.value for warning in app.warning)


def test_a_missing_warehouse_is_said_in_a_plain_sentence(tmp_path, monkeypatch):
    warehouse = tmp_path / "nothing_here.duckdb"

    app = run_app(monkeypatch, warehouse)

    assert not app.exception
    assert [info.value for info in app.info] == [
        f"No published warehouse yet at {warehouse}. Run `seatshift refresh`."
    ]
    assert not app.metric


def test_a_failed_first_refresh_shows_its_reason_before_any_warehouse_exists(tmp_path, monkeypatch):
    warehouse = tmp_path / "seatshift.duckdb"
    write_status(warehouse, "failed", "2026-03-15T06:01:00+00:00", "landing folder is empty")

    app = run_app(monkeypatch, warehouse)

    assert not app.exception
    assert "landing folder is empty" in app.error[0].value
    assert "No published warehouse yet" in app.info[0].value


def test_a_warehouse_without_the_expected_tables_shows_sentences_and_details_not_tracebacks(
    tmp_path, monkeypatch
):
    warehouse = tmp_path / "seatshift.duckdb"
    duckdb.connect(str(warehouse)).close()

    app = run_app(monkeypatch, warehouse)

    assert not app.exception
    warnings = [warning.value for warning in app.warning]
    assert any(
        text.startswith("Could not read the load totals.") and "Run a refresh" in text
        for text in warnings
    ), warnings
    assert any(expander.label == "Details" for expander in app.expander)
    assert "Catalog Error" in "\n".join(str(code.value) for code in app.code)
    assert set(metric_values(app).values()) == {"—"}


def test_data_health_links_to_the_dbt_docs_and_the_data_docs_and_says_how_to_serve_them(
    sample, monkeypatch
):
    monkeypatch.setenv("SEATSHIFT_DOCS_URL", "http://127.0.0.1:8123")

    app = run_app(monkeypatch, sample)

    assert not app.exception
    links = {button.value: button.proto.url for button in app.get("link_button")}
    assert links["dbt docs: lineage, models and columns"] == "http://127.0.0.1:8123/dbt/"
    assert links["Great Expectations Data Docs"] == "http://127.0.0.1:8123/data-docs/index.html"
    captions = "\n".join(caption.value for caption in app.caption)
    assert f"`seatshift docs --warehouse {sample} --port 8123`" in captions
    assert "The dbt docs of the published build were written" in captions


def test_data_health_says_when_no_dbt_docs_were_generated_yet(sample, tmp_path, monkeypatch):
    app = run_app(monkeypatch, private_copy(sample, tmp_path))  # the copy has no docs beside it

    assert not app.exception
    links = {button.value: button.proto.url for button in app.get("link_button")}
    assert links["dbt docs: lineage, models and columns"] == "http://127.0.0.1:8080/dbt/"
    captions = "\n".join(caption.value for caption in app.caption)
    assert "No dbt docs yet" in captions and "no Data Docs yet" in captions


def test_segments_are_named_by_their_glossary_labels_on_every_page(sample, monkeypatch):
    # The pages named a segment two ways ("Smb" in a heading, "smb" in a verdict, the raw id in
    # a legend). One name now, the glossary's (analyses/_glossary.yml, segment_<id>), in the
    # sidebar, the Overview's headings and the charts' legends.
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(sample))
    import dashboards.lib
    from dashboards.lib import charts, definitions

    dashboards.lib.use_without_server()
    labels = {
        segment: definitions.segment_label(segment)
        for segment in ("smb", "mid_market", "enterprise", "all")
    }
    assert labels == {"smb": "SMB", "mid_market": "Mid-market", "enterprise": "Enterprise",
                      "all": "All segments"}  # fmt: skip
    # a segment the glossary does not name keeps its own spelling
    assert definitions.segment_label("EMEA_Enterprise") == "EMEA Enterprise"
    assert definitions.segment_label("emea_north") == "Emea north"
    frame = pd.DataFrame(
        {"month": ["2026-01-01"] * 2, "segment": ["mid_market", "all"], "value": [1.0, 2.0]}
    )
    legend = {trace.name for trace in charts.segment_lines(frame, "value").data}
    assert legend == {"Mid-market", "All segments"}

    app = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()  # the Overview
    assert not app.exception
    assert app.subheader[0].value.startswith(tuple(labels.values()))
    cards = "\n".join(element.value for element in app.markdown)
    assert all(f"**{labels[segment]}**" in cards for segment in ("smb", "mid_market", "enterprise"))
    assert {"SMB", "Mid-market"} <= set(app.sidebar.multiselect[0].options)
