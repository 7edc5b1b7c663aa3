"""Benchmark: the Shadow billing page's what-if re-rate on a published warehouse.

Times `queries.what_if`, the very function the page calls when the analyst edits a proposal: the
build's rating SQL (marts.rpt_rating_sql) over the monthly quantities (fct_rating_quantities),
bill shock and the guardrail summary, in an in-memory DuckDB. The quantities are read once and
cached, as on the page; each timed run is an edit of its own (the page rates an edit once per
build) and re-rates the whole history. The bar is under one second on the demo warehouse (300
accounts, 24 months, ~2.5M usage events).

    .venv/bin/python -m bench.bench_whatif [--warehouse PATH] [--runs N]

Writes its lines to bench/results/whatif.txt.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "whatif.txt"
EDITED_MODEL = "hybrid_seat_plus_tokens"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="published warehouse (default: SEATSHIFT_WAREHOUSE)")
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    if arguments.warehouse:
        os.environ["SEATSHIFT_WAREHOUSE"] = str(Path(arguments.warehouse).resolve())
    import duckdb

    import dashboards.lib

    dashboards.lib.use_without_server()
    from dashboards.lib import queries

    warehouse = queries.warehouse().path
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        accounts, account_months, events = connection.execute(
            """
            select count(distinct account_id), count(distinct (account_id, month)),
                (select count(*) from telemetry.usage_events)
            from marts.fct_rating_quantities
            """
        ).fetchall()[0]

    components, tiers = queries.price_book(EDITED_MODEL)
    _, all_components, all_tiers = queries.full_price_book()

    def raised(book, dollars: int):
        """The book with the hybrid's seat fee raised by `dollars`: each run's own edit, since
        the page rates an edit once per build and reads it again after (queries.what_if)."""
        edited = book.copy()
        seats = (edited["component_id"] == "seats") & (edited["price_model_id"] == EDITED_MODEL)
        edited.loc[seats, "unit_amount"] += dollars
        return edited

    queries.what_if(raised(components, 10), tiers)  # reads and caches the quantities, as the page

    lines = []
    for label, book, book_tiers in (
        (f"one edited proposal ({EDITED_MODEL})", components, tiers),
        (f"the whole price book ({all_components['price_model_id'].nunique()} models)",
         all_components, all_tiers),
    ):  # fmt: skip
        seconds = []
        for run in range(arguments.runs):
            edited = raised(book, 11 + run)
            started = time.perf_counter()
            queries.what_if(edited, book_tiers)
            seconds.append(time.perf_counter() - started)
        lines.append(
            f"what-if re-rate of {label}: median {statistics.median(seconds):.3f} s, "
            f"max {max(seconds):.3f} s over {arguments.runs} runs "
            f"({accounts:,} accounts, {account_months:,} account-months, {events:,} usage events "
            f"in the warehouse; python {platform.python_version()}, {platform.machine()}, "
            f"{os.cpu_count()} cores)"
        )
    for line in lines:
        print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
