"""Writing the small exports as CSV, JSONL or Parquet from their textual values.

Rows are held as text exactly as a source system would print them, so a bad value (`twelve`,
a timestamp without offset) can sit in a CSV or JSONL file like any other. Parquet has native
types: a bad row that only text can carry is left out of Parquet output (and of the manifest).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.contract import EXPORTS

PARQUET_TYPES = {
    "string": "varchar",
    "timestamp": "timestamptz",
    "date": "date",
    "money": "decimal(18, 4)",
    "integer": "bigint",
    "decimal": "decimal(18, 8)",
}
# Rules whose offending value has no native Parquet form.
TEXT_ONLY_RULES = ("type:", "timestamp_without_offset:", "too_many_decimals:")
INTEGER = re.compile(r"^-?\d+$")


@dataclass
class ExportFile:
    """One landing file: its export, name stem (`<export>__<anything>`) and rows of text values."""

    export: str
    stem: str
    rows: list[dict[str, str | None]] = field(default_factory=list)
    rules: dict[int, str] = field(default_factory=dict)  # row position -> rule a bad row breaks

    def insert_bad_rows(self, bad_rows: list[tuple[str, dict[str, str | None]]]) -> None:
        """Spreads bad rows through the file at fixed positions, so row numbers are reproducible."""
        total = len(self.rows) + len(bad_rows)
        positions = [(number + 1) * total // (len(bad_rows) + 1) for number in range(len(bad_rows))]
        for position, (rule, row) in zip(positions, bad_rows, strict=True):
            self.rows.insert(position, row)
            self.rules = {
                (key + 1 if key >= position else key): value for key, value in self.rules.items()
            }
            self.rules[position] = rule


def write_export_file(
    connection: duckdb.DuckDBPyConnection, out_dir: Path, export_file: ExportFile, fmt: str
) -> tuple[str, int, list[dict]]:
    """Writes the file; returns its name, row count and bad rows (with 1-based row numbers)."""
    export = EXPORTS[export_file.export]
    names = export.column_names
    rows, rules = export_file.rows, dict(export_file.rules)
    if fmt == "parquet":
        keep = [p for p in range(len(rows)) if not rules.get(p, "").startswith(TEXT_ONLY_RULES)]
        rules = {new: rules[old] for new, old in enumerate(keep) if old in rules}
        rows = [rows[position] for position in keep]
    path = out_dir / f"{export_file.stem}.{fmt}"
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            for row in rows:
                writer.writerow(["" if row.get(name) is None else row[name] for name in names])
    elif fmt == "jsonl":
        integers = {column.name for column in export.columns if column.type == "integer"}
        with path.open("w", encoding="utf-8", newline="") as handle:
            for row in rows:
                record = {}
                for name in names:
                    value = row.get(name)
                    if name in integers and value is not None and INTEGER.match(value):
                        value = int(value)
                    record[name] = value
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        _write_parquet(connection, path, export_file.export, rows)
    bad = [
        {"export": export_file.export, "file": path.name, "row_number": position + 1, "rule": rule}
        for position, rule in sorted(rules.items())
    ]
    return path.name, len(rows), bad


def _write_parquet(
    connection: duckdb.DuckDBPyConnection, path: Path, export_name: str, rows: list[dict]
) -> None:
    export = EXPORTS[export_name]
    table = pa.table(
        {"_position": pa.array(range(len(rows)), pa.int64())}
        | {
            name: pa.array([row.get(name) for row in rows], pa.string())
            for name in export.column_names
        }
    )
    connection.register("export_rows", table)
    casts = ", ".join(
        f"cast({column.name} as {PARQUET_TYPES[column.type]}) as {column.name}"
        for column in export.columns
    )
    connection.execute(
        f"copy (select {casts} from export_rows order by _position) "
        f"to '{path.as_posix()}' (format parquet, compression zstd)"
    )
    connection.unregister("export_rows")
