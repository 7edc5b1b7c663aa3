"""`seatshift rate`: rate usage quantities under a price book with shadow billing's own SQL.

The rating engine is written once, as the dbt macro `rate_usage` (dbt_project/macros/rating/).
Every build publishes it compiled over placeholder relations in `marts.rpt_rating_sql`; this
module runs that text in an in-memory DuckDB against tables made from the CSV files. Without a
built warehouse it asks dbt to compile the macro (a few seconds), so the command never carries a
second implementation that could drift from shadow billing.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib import settings

RATING_SQL_NAME = "rate_usage"
USAGE_RELATION = "rating_usage"
COMPONENTS_RELATION = "rating_price_components"
TIERS_RELATION = "rating_price_tiers"
PRICE_BOOK_FILES = ("price_models.csv", "price_components.csv", "price_tiers.csv")
COMPONENT_COLUMNS = (
    "price_model_id",
    "component_id",
    "metric",
    "charge_model",
    "unit_size",
    "unit_amount",
    "flat_amount",
    "package_size",
    "package_amount",
    "free_units",
    "free_units_per_metric",
    "rate_pct",
    "fixed_amount",
    "pool_units",
    "rollover_pct",
    "rollover_periods",
    "minimum_amount",
)
TIER_COLUMNS = (
    "price_model_id",
    "component_id",
    "tier",
    "up_to",
    "per_unit_amount",
    "rate_pct",
    "flat_amount",
)
USAGE_COLUMNS = ("account_id", "period", "metric", "quantity", "events")
OUTPUT_COLUMNS = ("account_id", "period", "price_model_id", "component_id", "amount")
DEFAULT_PRICE_BOOK = settings.DBT_PROJECT_DIR / "seeds" / "price_book"


class RatingError(ValueError):
    """Input the rating cannot use; the message names the file and what is wrong."""


def rating_sql_from_warehouse(warehouse: Path) -> str | None:
    """The rating SQL the warehouse's build published, or None if it has none."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        found = conn.execute(
            """
            select count(*) from information_schema.tables
            where table_schema = 'marts' and table_name = 'rpt_rating_sql'
            """
        ).fetchone()
        if not found or not found[0]:
            return None
        row = conn.execute(
            "select sql_text from marts.rpt_rating_sql where sql_name = ?", [RATING_SQL_NAME]
        ).fetchone()
    return row[0] if row else None


def compile_rating_sql() -> str:
    """Compile `rate_usage` with dbt, for when no built warehouse is at hand."""
    dbt = Path(sys.executable).with_name("dbt")
    inline = (
        "{{ rate_usage('" + USAGE_RELATION + "', '" + COMPONENTS_RELATION + "', '"
        "" + TIERS_RELATION + "') }}"
    )
    with tempfile.TemporaryDirectory(prefix="seatshift-rate-") as scratch:
        env = {**os.environ, "SEATSHIFT_DBT_DATABASE": str(Path(scratch) / "compile.duckdb")}
        result = subprocess.run(
            [
                str(dbt),
                "compile",
                "--quiet",
                "--inline",
                inline,
                "--project-dir",
                str(settings.DBT_PROJECT_DIR),
                "--profiles-dir",
                str(settings.DBT_PROJECT_DIR),
                "--target-path",
                str(Path(scratch) / "target"),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=settings.DBT_PROJECT_DIR,
        )
    if result.returncode != 0:
        raise RatingError("dbt could not compile the rating SQL: " + result.stdout[-2000:])
    return result.stdout.strip()


def rating_sql(warehouse: Path | None = None) -> str:
    """The published rating SQL of `warehouse` (default: the configured one), else dbt's."""
    published = rating_sql_from_warehouse(settings.warehouse_path(warehouse))
    return published if published is not None else compile_rating_sql()


def _read_csv_text(conn: duckdb.DuckDBPyConnection, path: Path, columns: Iterable[str]) -> str:
    """A select over the CSV with every expected column as text (absent optional ones null)."""
    if not path.is_file():
        raise RatingError(f"{path} does not exist")
    present = conn.execute(
        "select * from read_csv(?, all_varchar = true, header = true) limit 0", [str(path)]
    ).description
    names = {column[0] for column in present}
    select_list = ", ".join(
        f'"{name}"' if name in names else f"cast(null as varchar) as {name}" for name in columns
    )
    escaped = str(path).replace("'", "''")
    return f"select {select_list} from read_csv('{escaped}', all_varchar = true, header = true)"


def load_price_book(conn: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """The price book folder's CSVs as the rating SQL's component and tier relations."""
    components = _read_csv_text(conn, folder / "price_components.csv", COMPONENT_COLUMNS)
    tiers_path = folder / "price_tiers.csv"
    conn.execute(f"create or replace temp table {COMPONENTS_RELATION} as {components}")
    if tiers_path.is_file():
        tiers = _read_csv_text(conn, tiers_path, TIER_COLUMNS)
        conn.execute(f"create or replace temp table {TIERS_RELATION} as {tiers}")
    else:  # a price book without tiered components may omit the file
        columns = ", ".join(f"cast(null as varchar) as {name}" for name in TIER_COLUMNS)
        conn.execute(f"create or replace temp table {TIERS_RELATION} as select {columns} limit 0")


def load_usage(conn: duckdb.DuckDBPyConnection, usage_file: Path) -> None:
    """Usage CSV rows (period `YYYY-MM`, empty events = 0) as the rating SQL's usage relation."""
    usage = _read_csv_text(conn, usage_file, USAGE_COLUMNS)
    conn.execute(
        f"""
        create or replace temp table {USAGE_RELATION} as
        select
            trim(account_id) as account_id,
            try_cast(trim(period) || '-01' as date) as period,
            trim(metric) as metric,
            try_cast(nullif(trim(quantity), '') as decimal(38, 12)) as quantity,
            coalesce(try_cast(nullif(trim(events), '') as decimal(38, 12)), 0) as events,
            period as period_text,
            quantity as quantity_text
        from ({usage})
        """
    )
    bad = conn.execute(
        f"""
        select period_text, quantity_text from {USAGE_RELATION}
        where period is null or quantity is null or account_id is null or metric is null
        limit 1
        """
    ).fetchone()
    if bad:
        raise RatingError(
            f"{usage_file}: a row lacks account_id or metric, or has period {bad[0]!r} (expected "
            f"YYYY-MM) or quantity {bad[1]!r} (expected a number)"
        )


def rate_lines(
    conn: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] = OUTPUT_COLUMNS
) -> list[tuple]:
    """Run the rating SQL over the loaded relations, ordered for a stable output."""
    select_list = ", ".join(
        "strftime(period, '%Y-%m') as period" if name == "period" else name for name in columns
    )
    return conn.execute(
        f"""
        select {select_list}
        from ({sql}) as rated
        order by account_id, rated.period, price_model_id, component_id
        """
    ).fetchall()


def rate(price_book: Path, usage_file: Path, *, sql: str | None = None) -> list[tuple]:
    """Rows of (account_id, period, price_model_id, component_id, amount), amounts exact."""
    sql = sql if sql is not None else rating_sql()
    with duckdb.connect() as conn:
        load_price_book(conn, price_book)
        load_usage(conn, usage_file)
        return rate_lines(conn, sql)


def format_amount(amount: Decimal) -> str:
    """Exact, without float noise or trailing zeros (`1501.2`, `0`)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def write_output(rows: Iterable[tuple], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for account_id, period, price_model_id, component_id, amount in rows:
            writer.writerow(
                [account_id, period, price_model_id, component_id, format_amount(amount)]
            )
            count += 1
    return count
