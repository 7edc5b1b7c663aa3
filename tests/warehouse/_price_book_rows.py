"""A price book written out as the rating SQL's component, tier and model relations: rows of
price-book cells (column -> text, as in the CSVs; a cell not given is empty), for tests that rate
a hand-made book with the published or compiled rating SQL."""

from __future__ import annotations

import duckdb

from orchestration.lib import rating


def rows_sql(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    """`rows` as a select of `columns`, every cell text (none: no row of those columns)."""
    names = ", ".join(columns)
    if not rows:
        empty = ", ".join("''" for _ in columns)
        return f"select * from (values ({empty})) as v({names}) where false"
    values = ", ".join(
        "(" + ", ".join(f"'{row.get(column, '')}'" for column in columns) + ")" for row in rows
    )
    return f"select * from (values {values}) as v({names})"


def create_price_book(
    conn: duckdb.DuckDBPyConnection,
    components: list[dict[str, str]],
    tiers: list[dict[str, str]] = (),
    models: list[dict[str, str]] = (),
) -> None:
    """The book's three relations, as temp tables of this connection."""
    for relation, rows, columns in (
        (rating.COMPONENTS_RELATION, components, rating.COMPONENT_COLUMNS),
        (rating.TIERS_RELATION, list(tiers), rating.TIER_COLUMNS),
        (rating.MODELS_RELATION, list(models), rating.MODEL_CAP_COLUMNS),
    ):
        conn.execute(f"create temp table {relation} as {rows_sql(rows, columns)}")
