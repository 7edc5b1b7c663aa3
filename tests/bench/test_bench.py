"""The bench command: its parsers on real log lines, and (opt-in) a whole run at a tiny scale.

The whole run refreshes four times (a full and a one-day refresh of its company, then of the
one-day floor's), about six minutes even on a quiet machine, so it runs only when asked for:
`pytest -m bench tests/bench`.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import report, stages
from bench.dashboard import NOT_QUERIES, _queries, query_functions
from bench.measure import Measured

REPO_ROOT = Path(__file__).resolve().parents[2]

# Lines of a real `seatshift refresh` dbt log (colour codes included, as dagster-dbt writes them).
DBT_LOG = """\
115 of 536 OK created sql incremental model intermediate.int_usage_events_rolled_up_to_account_month  [\x1b[32mOK\x1b[0m in 1.85s]
1 of 536 OK created sql table model marts.rpt_metric_definitions ............... [\x1b[32mOK\x1b[0m in 0.59s]
5 of 536 OK created sql view model staging.stg_billing__invoice_lines .......... [\x1b[32mOK\x1b[0m in 0.18s]
13 of 536 OK loaded seed file price_book.credit_rates .......................... [\x1b[32mINSERT 12\x1b[0m in 0.26s]
112 of 536 PASS int_usage_events_rolled_up_to_account_month::usage_events_roll_up  [\x1b[32mPASS\x1b[0m in 0.47s]
"""  # noqa: E501


def test_dbt_log_gives_seconds_per_model_and_nothing_for_seeds_or_tests():
    seconds = stages.dbt_model_seconds(stages.ANSI.sub("", DBT_LOG))
    assert seconds == {
        "intermediate.int_usage_events_rolled_up_to_account_month": 1.85,
        "marts.rpt_metric_definitions": 0.59,
        "staging.stg_billing__invoice_lines": 0.18,
    }


def test_a_failed_refresh_is_a_figure_with_its_one_line_reason():
    """The last lines of a real failed `seatshift refresh` (100M events, 2026-11-23)."""
    text = (
        "seat_events__redelivery.parquet         loaded  10383    0        10383      0\n"
        "dbt's log of this refresh: warehouse/seatshift.duckdb.last_refresh.log\n"
        "refresh failed: dbt_models: dbt build failed: int_projected_revenue_aggregated_to_segment:"
        " Out of Memory Error (nothing is published yet)\n"
    )
    measured = stages.Measured(
        seconds=259.5, exit_code=1, max_process_rss_bytes=1, peak_tree_rss_bytes=1, started_at=0
    )
    failed = stages.RefreshFailed(measured, text)
    assert failed.reason.startswith("refresh failed: dbt_models: dbt build failed: int_projected")
    assert failed.reason.endswith("(nothing is published yet)")
    assert stages.RefreshFailed(measured, "Traceback ...\n").reason == "exit code 1"


@pytest.mark.parametrize(
    ("step_key", "stage"),
    [
        ("telemetry__usage_events", "load"),
        ("landing__inventory", "load"),
        ("telemetry__usage_events_matches_expectations", "checks"),
        ("dbt_models", "dbt"),
        ("audit__refresh_log", "publish"),
    ],
)
def test_each_step_of_the_refresh_job_belongs_to_one_stage(step_key, stage):
    assert stages.stage_group(step_key) == stage


def test_the_benchmarks_doc_has_the_markers_the_bench_writes_between(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        (REPO_ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    report.replace_docs_section(doc, "| what | figure | target |")
    text = doc.read_text(encoding="utf-8")
    assert f"{report.DOCS_START}\n| what | figure | target |\n{report.DOCS_END}" in text


def test_every_dashboard_query_gets_its_arguments_and_answers_on_the_sample(sample_warehouse):
    # The bench times each public function of dashboards/lib/queries/ with arguments taken
    # from the warehouse: a new query with a parameter the bench cannot fill broke the whole
    # bench run at its last stage (paper_invoice_actual_lines' `month`). One call each.
    from bench.dashboard import time_queries

    timings = time_queries(sample_warehouse, calls=1)
    assert "paper_invoice_actual_lines" in timings and "re_projection" in timings
    assert "re_projection (spread)" in timings  # the edit that rates, timed beside the growth
    assert all(p95 >= p50 > 0 for p50, p95 in timings.values())


def test_the_bench_finds_every_public_function_of_every_query_module(tmp_path, monkeypatch):
    """Read from the modules' source, not through the package: a query that a subject module
    defines but the bench's enumeration misses would never be timed (the enumeration once matched
    only functions of the single queries.py)."""
    import ast

    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(tmp_path / "none.duckdb"))
    queries = _queries(tmp_path / "none.duckdb")
    defined = {
        node.name
        for path in (REPO_ROOT / "dashboards" / "lib" / "queries").glob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }
    found = query_functions(queries)
    assert set(found) == defined - NOT_QUERIES
    assert len(found) >= 61  # the count when the queries were split by subject
    assert all(getattr(queries, name) is function for name, function in found.items())


def _one_day_floor(seconds: float) -> stages.OneDayFloor:
    measured = Measured(seconds, 0, 0, 0, 0.0)
    refresh = stages.Refresh(
        measured=measured, run_id=None,
        stages={"startup": 6.0, "load": 2.0, "checks": 4.0, "dbt": 34.0, "publish": 0.3},
        dbt_models={"marts.a": 10.0, "marts.b": 3.5},
    )  # fmt: skip
    generated = stages.Generated(
        seconds=1.0, events=85_000, usage_rows=85_000, accounts=stages.FLOOR_ACCOUNTS,
        usage_files=[], usage_bytes=0, last_day=dt.date(2026, 10, 31),
    )  # fmt: skip
    day = stages.NewDay(dt.date(2026, 11, 1), 233, 5, None, [])
    return stages.OneDayFloor(generated=generated, day=day, refresh=refresh)


def test_the_one_day_floor_says_when_the_target_is_below_it():
    # a floor of 50 s against full refreshes of 400 s (12.5%: no one-day refresh can be within
    # 10%) and of 600 s (8.3%: it can, by what is left of 60 s)
    below = bench_main._one_day_floor_row(_one_day_floor(50.0), 400.0)
    assert "50.0 s = 12% of this full refresh" in below[1]
    assert "dbt 34.0 s (its 2 models 13.5 s" in below[1]
    assert "load and checks 6.0 s" in below[1]
    assert below[2] == "above 10%: the one-day target is below the floor"
    above = bench_main._one_day_floor_row(_one_day_floor(50.0), 600.0)
    assert "= 8% of this full refresh" in above[1]
    assert above[2] == "within 10%: the target is above the floor"


def test_accounts_scale_with_the_events_asked_for():
    assert stages.accounts_for(10_000_000) == 1450
    assert stages.accounts_for(100_000_000) == 14500


ROWS = (
    "scale", "machine", "generate", "lower bound", "full `seatshift refresh`",
    "floor of a full refresh",
    "full refresh: peak memory", "full refresh: load", "full refresh: checks",
    "full refresh: dbt", "full refresh: publish", "full refresh: slowest dbt models",
    "full refresh: projection and migration plan",
    "peer: polars streaming", "peer: pandas", "ours: the rollup model", "ours inside",
    "the engines agree", "one-day incremental refresh", "floor of a one-day refresh",
    "incremental: dbt",
    "refresh with nothing new",
    "dashboard: slowest query",
)  # fmt: skip


@pytest.mark.bench
def test_the_bench_at_a_tiny_scale_reports_every_figure(tmp_path, request):
    if "bench" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("six minutes or more: run with `pytest -m bench tests/bench`")
    out = tmp_path / "bench.md"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--events", "30000", "--out", str(out),
         "--keep", str(tmp_path / "work")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    table = out.read_text(encoding="utf-8")
    for row in ROWS:
        assert f"| {row}" in table, row
    assert "identical groups and totals" in table
    assert "n/a" not in table.split("Dashboard queries")[0]
    wall = re.search(r"\| full `seatshift refresh`[^|]*\| ([\d.,]+) s", table)
    assert wall and float(wall[1].replace(",", "")) > 1
    queries = query_functions(_queries(tmp_path / "work" / "warehouse" / "seatshift.duckdb"))
    for name in queries:
        assert f"| `{name}` |" in table, name
