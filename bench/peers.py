"""The account x month usage rollup, four ways, over the same files in the same bench run.

The rollup: per account and month, tasks, agent tasks, tokens (input + output) and distinct
active human users. `duckdb` is the lower bound (one pass over the export files, nothing else);
`pandas` and `polars` (streaming engine) are the peers; `ours` runs the project's own two usage
rollup models (their compiled SQL, from the run's dbt target) on the loaded warehouse, then the
measures and distinct users per account-month the marts take from them.

Each engine runs in a process of its own (`python -m bench.peers ENGINE ...`) so that its peak
memory is its own; it prints one JSON line: the seconds of each repeat, its own peak memory (VmHWM)
and a summary of the result (groups and column totals) that the bench compares across engines.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import memory_bytes
from orchestration.lib import settings

ENGINES = ("duckdb", "pandas", "polars", "ours")
COLUMNS = ["account_id", "actor_type", "user_id", "occurred_at", "input_tokens", "output_tokens",
           "tasks"]  # fmt: skip
SUMMARY = ("groups", "tasks", "agent_tasks", "tokens", "active_users")


def _summary(rows: list[tuple]) -> dict[str, int]:
    """rows: (account_id, month, tasks, agent_tasks, tokens, active_users)."""
    totals = [0, 0, 0, 0]
    for row in rows:
        for index, value in enumerate(row[2:]):
            totals[index] += int(value or 0)
    return dict(zip(SUMMARY, [len(rows), *totals], strict=True))


def _duckdb_source(files: list[str], fmt: str) -> str:
    listed = ", ".join("'" + name.replace("'", "''") + "'" for name in files)
    if fmt == "parquet":
        return f"read_parquet([{listed}])"
    return f"read_csv([{listed}], header = true)"


ROLLUP_SQL = """
    select
        account_id,
        date_trunc('month', occurred_at) as month,
        sum(tasks) as tasks,
        coalesce(sum(tasks) filter (where actor_type = 'agent'), 0) as agent_tasks,
        sum(input_tokens + output_tokens) as tokens,
        count(distinct user_id) filter (where actor_type = 'human') as active_users
    from {source}
    group by account_id, month
"""


def run_duckdb(files: list[str], fmt: str) -> Callable[[], list[tuple]]:
    import duckdb

    connection = duckdb.connect()
    connection.execute("set timezone = 'UTC'")
    sql = ROLLUP_SQL.format(source=_duckdb_source(files, fmt))
    return lambda: connection.execute(sql).fetchall()


def run_ours(warehouse: str, rollup_sql: str, actor_sql: str) -> Callable[[], list[tuple]]:
    """The models' compiled SELECTs over the loaded events, each into a table as dbt does: the
    account-month rollup (per actor type, feature and tier) and the per-actor one; then the
    measures per account-month from the first and distinct users from the second, as the marts
    count them."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("set timezone = 'UTC'")
    # As dbt's prod target runs the models (dbt_project/profiles.yml): no insertion order, the
    # refresh's memory bound; the figure is then the models' as a refresh builds them.
    connection.execute("set preserve_insertion_order = false")
    connection.execute(f"set memory_limit = '{settings.duckdb_memory_limit()}'")
    quoted = warehouse.replace("'", "''")
    connection.execute(f"attach '{quoted}' as seatshift (read_only)")

    def _run() -> list[tuple]:
        connection.execute(f"create or replace temp table usage_rollup as {rollup_sql}")
        connection.execute(f"create or replace temp table actor_rollup as {actor_sql}")
        return connection.execute(
            """
            with

            measures as (
                select
                    account_id,
                    month,
                    sum(tasks) as tasks,
                    coalesce(sum(tasks) filter (where actor_type = 'agent'), 0) as agent_tasks,
                    sum(input_tokens + output_tokens) as tokens
                from usage_rollup
                group by account_id, month
            ),

            users as (
                select account_id, month, count(distinct user_id) as active_users
                from actor_rollup
                group by account_id, month
            )

            select measures.*, coalesce(users.active_users, 0) as active_users
            from measures
            left join users
                on measures.account_id = users.account_id and measures.month = users.month
            """
        ).fetchall()

    return _run


def run_polars(files: list[str], fmt: str) -> Callable[[], list[tuple]]:
    import polars as pl

    def _run() -> list[tuple]:
        if fmt == "parquet":
            frame = pl.scan_parquet(files).select(COLUMNS)
            occurred = pl.col("occurred_at")
        else:
            frame = pl.scan_csv(files, schema_overrides={"user_id": pl.String}).select(COLUMNS)
            occurred = pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
        is_agent = pl.col("actor_type") == "agent"
        result = (
            frame.with_columns(occurred.dt.truncate("1mo").alias("month"))
            .group_by("account_id", "month")
            .agg(
                pl.col("tasks").sum().alias("tasks"),
                pl.col("tasks").filter(is_agent).sum().alias("agent_tasks"),
                (pl.col("input_tokens") + pl.col("output_tokens")).sum().alias("tokens"),
                pl.col("user_id")
                .filter(pl.col("actor_type") == "human")
                .drop_nulls()
                .n_unique()
                .alias("active_users"),
            )
            .collect(engine="streaming")
        )
        return result.rows()

    return _run


def run_pandas(files: list[str], fmt: str) -> Callable[[], list[tuple]]:
    import pandas as pd

    def _run() -> list[tuple]:
        if fmt == "parquet":
            frame = pd.concat(pd.read_parquet(name, columns=COLUMNS) for name in files)
        else:
            frame = pd.concat(
                pd.read_csv(name, engine="pyarrow", usecols=COLUMNS) for name in files
            )
        occurred = frame["occurred_at"]
        if not pd.api.types.is_datetime64_any_dtype(occurred):
            occurred = pd.to_datetime(occurred, format="%Y-%m-%dT%H:%M:%SZ", utc=True)
        frame = frame.assign(
            month=occurred.dt.tz_localize(None).values.astype("datetime64[M]"),
            agent_tasks=frame["tasks"].where(frame["actor_type"] == "agent", 0),
            tokens=frame["input_tokens"] + frame["output_tokens"],
            human_user=frame["user_id"].where(frame["actor_type"] == "human"),
        )
        result = frame.groupby(["account_id", "month"], sort=False).agg(
            tasks=("tasks", "sum"),
            agent_tasks=("agent_tasks", "sum"),
            tokens=("tokens", "sum"),
            active_users=("human_user", "nunique"),
        )
        return list(result.reset_index().itertuples(index=False, name=None))

    return _run


def main() -> None:
    parser = argparse.ArgumentParser(description="one engine's rollup, timed; prints JSON")
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--warehouse", help="ours: the published warehouse")
    parser.add_argument("--rollup-sql", help="ours: the compiled account-month rollup model")
    parser.add_argument("--actor-sql", help="ours: the compiled per-actor rollup model")
    parser.add_argument("--files", nargs="*", default=[])
    arguments = parser.parse_args()
    if arguments.engine == "ours":
        run = run_ours(
            arguments.warehouse,
            Path(arguments.rollup_sql).read_text(),
            Path(arguments.actor_sql).read_text(),
        )
    else:
        runner = {"duckdb": run_duckdb, "pandas": run_pandas, "polars": run_polars}
        run = runner[arguments.engine](arguments.files, arguments.format)
    seconds, rows = [], []
    for _ in range(arguments.repeat):
        started = time.perf_counter()
        rows = run()
        seconds.append(time.perf_counter() - started)
    _, peak = memory_bytes()
    print(
        json.dumps(
            {
                "engine": arguments.engine,
                "seconds": seconds,
                "peak_bytes": peak,
                "result": _summary(rows),
            }
        )
    )


if __name__ == "__main__":
    main()
