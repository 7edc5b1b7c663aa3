"""Benchmark: generate about 10M usage events (with all other exports) into a temporary folder.

Prints one line and writes it to bench/results/generate.txt. The acceptance bar is 10M events
in well under 3 minutes on the 2-core reference machine.

    .venv/bin/python -m bench.bench_generate [--format csv|parquet|jsonl] [--accounts N]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from orchestration.lib.generator import generate

RESULTS = Path(__file__).resolve().parent / "results" / "generate.txt"
# 1,450 accounts over 24 months at 1 event per active seat-day give about 10M usage events.
PARAMETERS = {
    "accounts": 1450,
    "months": 24,
    "start": "2025-01",
    "seed": 7,
    "usage_per_seat_day": 1.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="csv", choices=("csv", "parquet", "jsonl"))
    parser.add_argument("--accounts", type=int, default=PARAMETERS["accounts"])
    arguments = parser.parse_args()
    parameters = PARAMETERS | {"accounts": arguments.accounts, "fmt": arguments.format}
    with tempfile.TemporaryDirectory(prefix="seatshift-bench-") as directory:
        started = time.perf_counter()
        manifest = generate(Path(directory), **parameters)
        seconds = time.perf_counter() - started
        size = sum(path.stat().st_size for path in Path(directory).iterdir())
    events = manifest["usage_events_distinct"]
    line = (
        f"generate: {events:,} usage events ({manifest['row_counts']['usage_events']:,} rows with "
        f"late and repeated deliveries), {arguments.format}, {size / 1e6:,.0f} MB "
        f"in {seconds:.1f} s "
        f"= {events / seconds:,.0f} events/s (python {platform.python_version()}, "
        f"{platform.machine()}, accounts={parameters['accounts']}, months={parameters['months']})"
    )
    print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(line + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
