"""The floor of a full refresh on the lake layout: what any refresh of the same usage files must
spend at least, whatever its code, measured on this machine in the bench's own run.

Three passes, each the least its stage can do:

- `write`: the usage files read once and written once as month-partitioned Parquet parts with
  the lineage columns, as the load writes them (the same compression, one statement per file):
  no rule judged, no duplicate looked for, nothing quarantined.
- `checks`: the written parts scanned once for a required column left empty (every required
  column of the contract in one pass) and once for a key delivered twice (one grouping by the
  key): the least the blocking checks on the added rows can read.
- the two usage rollup models, which read every event: their time is taken from the refresh's
  own dbt log by the bench, not run here.

It runs in a process of its own (`python -m bench.floor --format F --work DIR --files ...`),
removes the parts it wrote and prints one JSON line: the seconds of each pass, the rows and bytes
written and its peak memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from bench.measure import memory_bytes
from bench.peers import _duckdb_source
from orchestration.lib.contract import EXPORTS
from orchestration.lib.contract.sql import quote
from orchestration.lib.lake import PARQUET_OPTIONS, PARTITIONED_BY_MONTH

EXPORT = EXPORTS["usage_events"]


def floor(files: list[str], fmt: str, work: Path) -> dict:
    import duckdb

    parts = work / "floor-parts"
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    connection = duckdb.connect()
    connection.execute("set timezone = 'UTC'")
    connection.execute("set preserve_insertion_order = false")
    month = quote(PARTITIONED_BY_MONTH[EXPORT.name])
    # a row's number in its file: Parquet gives it; a CSV reader has none, so every CSV row gets
    # the same number (a constant column writes for nothing, so the floor can only be lower)
    numbered = ", file_row_number = true" if fmt == "parquet" else ""
    row_number = "file_row_number + 1" if fmt == "parquet" else "cast(0 as bigint)"
    dropped = "filename, file_row_number" if fmt == "parquet" else "filename"
    rows = 0
    started = time.perf_counter()
    try:
        # One statement per file, as the load writes each landing file's rows (lake.write_parts).
        # One statement over every file at once held every month's partition open until the end:
        # 11.7 GiB at 100M, against 9.6 GiB file by file, at the same 3.3-3.4x the lower bound.
        for index, name in enumerate(files):
            source = _duckdb_source([name], fmt)[:-1] + f", filename = true{numbered})"
            (written_rows, _) = connection.execute(
                f"""copy (
                    select * exclude ({dropped}),
                        'floor' as _refresh_id, filename as _file_name,
                        {row_number} as _row_number,
                        current_timestamp::timestamp as _loaded_at, null::varchar as _extra,
                        strftime({month}, '%Y-%m') as __month
                    from {source}
                ) to '{parts / f"file-{index}"}'
                ({PARQUET_OPTIONS}, partition_by (__month), return_files true)"""
            ).fetchone()
            rows += written_rows
        write = time.perf_counter() - started
        written = sum(path.stat().st_size for path in parts.rglob("*.parquet"))
        lake = f"read_parquet('{parts}/*/*/*.parquet')"
        required = " or ".join(
            f"{quote(column.name)} is null" for column in EXPORT.columns if column.required
        )
        key = ", ".join(quote(name) for name in EXPORT.key)
        started = time.perf_counter()
        (empty,) = connection.execute(
            f"select count(*) filter (where {required}) from {lake}"
        ).fetchone()
        (repeated,) = connection.execute(
            f"select count(*) from (select {key} from {lake} group by {key} having count(*) > 1)"
        ).fetchone()
        checks = time.perf_counter() - started
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    _, peak = memory_bytes()
    return {
        "write_seconds": write,
        "checks_seconds": checks,
        "rows": int(rows),
        "bytes_written": written,
        "rows_with_an_empty_required_column": int(empty),
        "keys_delivered_twice": int(repeated),
        "peak_bytes": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="the floor of a full refresh; prints JSON")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--work", required=True, help="a folder for the parts (removed after)")
    parser.add_argument("--files", nargs="+", required=True)
    arguments = parser.parse_args()
    print(json.dumps(floor(arguments.files, arguments.format, Path(arguments.work))))


if __name__ == "__main__":
    main()
