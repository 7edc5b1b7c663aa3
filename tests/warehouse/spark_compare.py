"""Compare the marts of two warehouses row for row: exact for every column but doubles, which
agree to a relative 1e-9 (two engines sum floating point in different orders)."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

from orchestration.lib import lake as lake_module
from orchestration.lib import settings

RELATIVE_TOLERANCE = 1e-9
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def mart_columns(
    conn: duckdb.DuckDBPyConnection, database: str, schema: str = "marts"
) -> dict[str, dict[str, str]]:
    marts: dict[str, dict[str, str]] = {}
    for table, column, kind in conn.execute(
        """select table_name, column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? order by table_name, ordinal_position""",
        [database, schema],
    ).fetchall():
        marts.setdefault(table, {})[column] = kind
    return marts


def _close(left, right) -> bool:
    if left is None or right is None:
        return left is right
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def compare_marts(
    expected: Path,
    actual: Path,
    *,
    skip_columns: dict[str, set[str]] | None = None,
    only: set[str] | None = None,
    schema: str = "marts",
) -> dict[str, str]:
    """mart -> what differs, for every mart of `expected` (or those in `only`; empty when all
    agree); `schema`: another schema's tables and views compared alike."""
    skip_columns = skip_columns or {}
    differences: dict[str, str] = {}
    with duckdb.connect() as conn:
        conn.execute(f"attach '{expected}' as expected (read_only)")
        conn.execute(f"attach '{actual}' as actual (read_only)")
        wanted = mart_columns(conn, "expected", schema)
        got = mart_columns(conn, "actual", schema)
        for mart, columns in sorted(wanted.items()):
            if only is not None and mart not in only:
                continue
            if mart not in got:
                differences[mart] = "missing"
                continue
            if got[mart] != columns:
                differences[mart] = f"columns differ: {columns} != {got[mart]}"
                continue
            names = [name for name in columns if name not in skip_columns.get(mart, set())]
            exact = [name for name in names if columns[name] not in FLOAT_TYPES]
            floats = [name for name in names if columns[name] in FLOAT_TYPES]
            # Doubles sort by 9 significant digits, so rows equal but for float noise pair up.
            order = [f'"{name}"' for name in exact] + [
                f'round("{name}", 8 - cast(floor(log10(abs("{name}") + 1e-300)) as int))'
                for name in floats
            ]
            select = ", ".join(f'"{name}"' for name in exact + floats)
            order_by = ", ".join(f"{key} nulls first" for key in order) or "1"
            rows = {
                side: conn.execute(
                    f'select {select} from {side}.{schema}."{mart}" order by {order_by}'
                ).fetchall()
                for side in ("expected", "actual")
            }
            if len(rows["expected"]) != len(rows["actual"]):
                differences[mart] = (
                    f"{len(rows['expected'])} rows expected, {len(rows['actual'])} built"
                )
                continue
            for number, (left, right) in enumerate(
                zip(rows["expected"], rows["actual"], strict=True)
            ):
                split = len(exact)
                if left[:split] != right[:split] or not all(
                    _close(a, b) for a, b in zip(left[split:], right[split:], strict=True)
                ):
                    names_in_order = exact + floats
                    columns_differing = {
                        names_in_order[position]: (a, b)
                        for position, (a, b) in enumerate(zip(left, right, strict=True))
                        if (a != b if position < split else not _close(a, b))
                    }
                    differences[mart] = f"row {number} ({left[0]}): {columns_differing}"
                    break
    return differences


def sample_lake(warehouse: Path) -> Path:
    """The published warehouse's lake, holding exactly the parts the warehouse lists (Spark reads
    every part in a folder)."""
    lake = settings.lake_dir(warehouse)
    on_disk = {
        part.relative_to(lake).as_posix()
        for part in lake.rglob("*.parquet")
        if not part.name.startswith(".")
    }
    assert on_disk == lake_module.published_parts(warehouse)
    return lake
