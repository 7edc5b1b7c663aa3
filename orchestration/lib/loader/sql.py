"""Small SQL helpers and the errors the loader tells apart."""

from __future__ import annotations

import duckdb

from orchestration.lib.contract.sql import literal, quote

# Errors that mean our SQL is wrong, not the file: they must surface, not become a rejection.
OUR_BUGS = (
    duckdb.BinderException,
    duckdb.ParserException,
    duckdb.CatalogException,
    duckdb.InternalException,
    duckdb.NotImplementedException,
)


class FileRejected(Exception):
    """The whole file is refused; the message names the file and what is wrong."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def json_of(columns: list[str], empty_as: str | None = None, relation: str = "") -> str:
    """SQL for a JSON object of the named columns (CSV has no null: its empty field is '')."""
    if not columns:
        return "null"
    prefix = f"{relation}." if relation else ""
    fields = ", ".join(
        f"{quote(name)} := "
        + (
            f"coalesce({prefix}{quote(name)}, {literal(empty_as)})"
            if empty_as is not None
            else f"{prefix}{quote(name)}"
        )
        for name in columns
    )
    return f"to_json(struct_pack({fields}))::varchar"


def column_types(conn: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, str]:
    return {row[0]: row[1] for row in conn.execute(f"describe {relation_sql}").fetchall()}


__all__ = [
    "OUR_BUGS",
    "FileRejected",
    "column_types",
    "first_line",
    "json_of",
    "literal",
    "quote",
]
