"""Benchmark: the Projection page's re-projection under an edited assumption, on a published
warehouse.

Times `queries.re_projection`, the very function the page calls when the analyst edits an
assumption: the build's projection SQL (marts.rpt_projection_sql) with the edited value bound, over
the edit sample (fct_projection_edit_sample: its cost does not grow with the accounts), the grown
quantities rated by the build's rating SQL (marts.rpt_rating_sql), the build's projection by
segment moved by the sample's change, the scenarios and the backtest, in an in-memory DuckDB. The
inputs are copied once and kept, as on the page (the first call, not timed). Each timed run is a
new value (a cache miss, as an edit is), of one of two kinds: an edit of the growth multiplier or
the scenario spread moves every rated quantity and re-rates them all; an edit of the churn
multiplier or the shock churn keeps the rated lines of the values in force and re-projects from
them. The bar is under one second on the demo warehouse (`seatshift generate` defaults: 300
accounts, 24 months, then `seatshift refresh`).

    .venv/bin/python -m bench.bench_reprojection [--warehouse PATH] [--runs N]

Writes its lines to bench/results/reprojection.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from bench.measure import percentile

REPO_ROOT = Path(__file__).resolve().parents[1]

RESULTS = REPO_ROOT / "bench" / "results" / "reprojection.txt"
BAR_SECONDS = 1.0
EDITS = {
    "growth multiplier (re-rates every projected month)": "projection_growth_multiplier",
    "churn multiplier (re-projects from the rated lines)": "projection_churn_multiplier",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="published warehouse (default: SEATSHIFT_WAREHOUSE)")
    parser.add_argument("--runs", type=int, default=11)
    arguments = parser.parse_args()
    if arguments.warehouse:
        os.environ["SEATSHIFT_WAREHOUSE"] = str(Path(arguments.warehouse).resolve())
    import duckdb

    import dashboards.lib

    dashboards.lib.use_without_server()
    from dashboards.lib import queries

    warehouse = queries.warehouse().path
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        accounts, models, rows = connection.execute(
            """
            select
                (select count(distinct account_id) from marts.fct_projection_bases
                 where origin_kind = 'projection'),
                (select count(*) from marts.dim_price_models),
                (select count(*) from marts.fct_revenue_projection)
            """
        ).fetchone()

    started = time.perf_counter()
    queries.re_projection(())  # the page's first visit: copies the inputs, rates the build's
    first = time.perf_counter() - started

    machine = f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"re-projection on {warehouse.name}: {accounts:,} base accounts x {models} models x "
        f"3 scenarios x 25 months ({rows:,} projection rows); {machine}; load average "
        f"{load:.1f} at the start; bar {BAR_SECONDS:.0f} s",
        f"  first visit (inputs copied, the build's values projected): {first:.3f} s",
    ]
    for label, name in EDITS.items():
        seconds = []
        for run in range(arguments.runs):
            value = 1.0 + (run + 1) / 100  # a new value each run: every run is an edit
            started = time.perf_counter()
            queries.re_projection(((name, value),))
            seconds.append(time.perf_counter() - started)
        p50, p95 = percentile(seconds, 0.5), percentile(seconds, 0.95)
        verdict = "under" if p95 < BAR_SECONDS else "OVER"
        lines.append(
            f"  edit of the {label}: p50 {p50:.3f} s, p95 {p95:.3f} s over "
            f"{arguments.runs} runs ({verdict} the bar at p95)"
        )
    for line in lines:
        print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
