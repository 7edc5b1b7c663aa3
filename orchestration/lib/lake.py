"""The raw layer as a lake: immutable Parquet parts beside the warehouse, listed inside it.

Every refresh writes the clean rows it loaded as new Parquet parts, one folder per export under
`<warehouse>.lake/<schema>/<table>/`; the usage events go one folder further, per month of
`occurred_at` (`month=2026-01/`). A part is written once and never rewritten or appended to.

The warehouse file lists the parts (`audit.lake_parts`), and each raw relation
(`telemetry.usage_events`, ...) is a view over exactly the parts listed in that file. So the
list is part of a build: a refresh's new parts are listed in its private build file only, readers
of the published warehouse cannot see them until that build is published, and a refresh that
fails or is killed leaves parts that no published build lists. Holding the refresh lock, the next
refresh (and a failed refresh on its way out) removes every part the published build does not
list (`remove_unlisted`).

A build copies the published warehouse file, which holds no event: the bytes a refresh copies
grow with the marts, not with the history. The views name the parts by their absolute path (a
view cannot name a path relative to its database file); the list keeps each part's path inside
the lake too, so a warehouse moved or copied together with its lake (`copy_warehouse`) is
pointed at its own lake by `ensure_lake`, which every refresh runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib import settings
from orchestration.lib.contract import EXPORTS, LINEAGE_COLUMNS, Export
from orchestration.lib.contract.sql import literal, quote

LAKE_PARTS = "audit.lake_parts"

LAKE_PARTS_DDL = f"""create table if not exists {LAKE_PARTS} (
    part_path varchar primary key,  -- absolute path of the Parquet file, as the views read it
    relative_path varchar not null,  -- its path inside the lake folder
    export varchar not null,
    relation varchar not null,  -- the raw view that reads it
    refresh_id varchar not null,  -- the refresh that wrote it
    file_name varchar,  -- the landing file its rows came from (null: moved from a raw table)
    month date,  -- the partition's month (usage events), else null
    row_count bigint not null,
    size_bytes bigint not null,
    written_at timestamp not null
)"""

# Exports whose parts are split by the month of a timestamp column: the big one, so a month's
# rebuild and a reader of one month open that month's files only.
PARTITIONED_BY_MONTH = {"usage_events": "occurred_at"}

_INCOMING = ".incoming-"

# How parts are written. Zstandard, as the landing files are: a part is a third smaller than with
# Snappy (the default), so every scan of the lake (the dedupe probe, the checks, the rollups)
# reads less. At level 1 rather than 3 (the default): 6.9M usage events of one month were written
# in 5.0 s instead of 6.2 s, into parts 1% smaller; reading is as fast at every level.
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1"


def lake_dir_of(conn: duckdb.DuckDBPyConnection) -> Path:
    """`<database file>.lake`: where a connection's parts go when no lake is named."""
    (path,) = conn.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if not path:
        raise ValueError("an in-memory database has no lake folder: name one (lake=...)")
    return settings.lake_dir(Path(path))


def export_dir(lake: Path, export: Export) -> Path:
    return lake / export.schema / export.table


def _empty_select(export: Export) -> str:
    """Zero rows of the raw relation's columns and types: the view's shape with no part yet."""
    columns = [(column.name, column.raw_type) for column in export.columns]
    columns += list(LINEAGE_COLUMNS.items())
    return "select " + ", ".join(f"cast(null as {kind}) as {quote(name)}" for name, kind in columns)


def view_sql(export: Export, parts: list[str]) -> str:
    """The raw relation as a view over `parts`. The typed empty select fixes columns and types,
    and `union all by name` fills a column that older parts lack with null."""
    empty = f"select * from ({_empty_select(export)} limit 0)"
    if not parts:
        return f"create or replace view {export.relation} as {empty}"
    listed = ", ".join(literal(path) for path in parts)
    return (
        f"create or replace view {export.relation} as\n{empty}\nunion all by name\n"
        f"select * from read_parquet([{listed}], hive_partitioning = false, "
        "union_by_name = true)"
    )


def listed_parts(conn: duckdb.DuckDBPyConnection, export: Export) -> list[str]:
    return [
        path
        for (path,) in conn.execute(
            f"select part_path from {LAKE_PARTS} where export = ? order by part_path",
            [export.name],
        ).fetchall()
    ]


def refresh_view(conn: duckdb.DuckDBPyConnection, export: Export) -> None:
    conn.execute(view_sql(export, listed_parts(conn, export)))


def ensure_lake(conn: duckdb.DuckDBPyConnection, lake: Path | None = None) -> None:
    """The parts list, and each export's raw relation as a view over its listed parts. A raw
    table of a warehouse written before the lake becomes that export's first part.

    `lake` names the folder this warehouse's parts live in (a refresh names the published
    warehouse's): a list that names another folder, because the warehouse was moved or copied
    together with its lake, is pointed there. Without it new parts go to `<database file>.lake`
    and the list stays as it is: a scratch copy (the dry run) reads its original's parts."""
    conn.execute(LAKE_PARTS_DDL)
    if lake is None:
        lake = lake_dir_of(conn)
    else:
        require_listed_parts(conn, lake)
        _rebase(conn, lake)
    kinds = dict(
        conn.execute(
            "select table_schema || '.' || table_name, table_type "
            "from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
    )
    for export in EXPORTS.values():
        kind = kinds.get(export.relation)
        if kind == "BASE TABLE":
            _move_table_into_lake(conn, export, lake)
        elif kind is None:
            refresh_view(conn, export)


class MissingParts(RuntimeError):
    """The warehouse lists raw parts its lake folder does not hold."""


def require_listed_parts(conn: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Raise MissingParts, saying what to do, when a part the warehouse lists is not in `lake`:
    the warehouse file was moved, copied or restored without its lake folder. Without this the
    refresh failed on DuckDB's "No files found that match the pattern" for the first view read."""
    listed = conn.execute(
        f"select relative_path from {LAKE_PARTS} order by relative_path"
    ).fetchall()
    missing = [path for (path,) in listed if not (lake / path).is_file()]
    if not missing:
        return
    raise MissingParts(
        f"{len(missing):,} of the {len(listed):,} raw-data parts this warehouse lists are not in "
        f"{lake} (e.g. {missing[0]}): the warehouse file was moved, copied or restored without "
        f"the folder `{lake.name}` that holds its raw rows. Put that folder back beside the "
        "file (moving or copying a warehouse takes both), or set the file aside and refresh "
        "again to load every landing file into a new warehouse."
    )


def _has_list(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse lists parts (a warehouse from before the lake does not)."""
    (tables,) = conn.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'audit' and table_name = 'lake_parts'"
    ).fetchone()
    return tables > 0


def read_parts_from(conn: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Point a copy's list (and views) at the parts in `lake` without moving or writing any part
    there: the dry run's scratch copy reads the parts of the warehouse it copied, which may have
    been moved with its lake since its last refresh, and writes its own under
    `<scratch file>.lake`. A warehouse from before the lake has no list: nothing to point."""
    if _has_list(conn):
        require_listed_parts(conn, lake)
        _rebase(conn, lake)


def _rebase(conn: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Point the list (and the views) at `lake` where it names another folder: a warehouse moved
    or copied together with its lake."""
    prefix = str(lake) + "/"
    moved = [
        export
        for (export,) in conn.execute(
            f"""select distinct export from {LAKE_PARTS}
            where part_path <> ? || relative_path order by export""",
            [prefix],
        ).fetchall()
    ]
    if not moved:
        return
    conn.execute(
        f"""update {LAKE_PARTS} set part_path = ? || relative_path
        where part_path <> ? || relative_path""",
        [prefix, prefix],
    )
    for name in moved:
        refresh_view(conn, EXPORTS[name])


def copy_warehouse(source: Path, target: Path) -> Path:
    """A copy of a warehouse with its own lake: the file, and every part it lists hard-linked
    (parts are immutable; a copy where a link cannot be made) into `<target>.lake`, the copy's
    list and views pointing there. What a test or an operator uses instead of copying the file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    lake = settings.lake_dir(target)
    with duckdb.connect(str(target)) as conn:
        if not _has_list(conn):
            return target
        listed = conn.execute(f"select part_path, relative_path from {LAKE_PARTS}").fetchall()
        for part_path, relative_path in listed:
            destination = lake / relative_path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.unlink(missing_ok=True)
            try:
                os.link(part_path, destination)
            except OSError:
                shutil.copyfile(part_path, destination)
        _rebase(conn, lake)
    return target


def _move_table_into_lake(conn: duckdb.DuckDBPyConnection, export: Export, lake: Path) -> None:
    conn.begin()
    try:
        source = f"select * from {export.relation}"
        write_parts(
            conn,
            export,
            source,
            lake=lake,
            refresh_id="moved-into-lake",
            file_name=None,
            widen_view=False,
        )
        conn.execute(f"drop table {export.relation}")
        refresh_view(conn, export)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


@dataclass(frozen=True)
class Part:
    path: Path
    month: dt.date | None
    rows: int


def write_parts(
    conn: duckdb.DuckDBPyConnection,
    export: Export,
    select_sql: str,
    *,
    lake: Path,
    refresh_id: str,
    file_name: str | None,
    widen_view: bool = True,
) -> int:
    """Write the rows of `select_sql` (the raw relation's columns) as new parts, list them and
    widen the view to them (unless `widen_view` is false); returns the row count. Run inside
    the caller's transaction: a rollback unlists the parts, and the files left behind are
    removed by `remove_unlisted`."""
    folder = export_dir(lake, export)
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{refresh_id}-{uuid.uuid4().hex[:8]}"
    month_column = PARTITIONED_BY_MONTH.get(export.name)
    parts: list[Part] = []
    if month_column is None:
        target = folder / f"{tag}.parquet"
        (rows,) = conn.execute(
            f"copy ({select_sql}) to {literal(str(target))} ({PARQUET_OPTIONS})"
        ).fetchone()
        if rows:
            parts.append(Part(target, None, rows))
        else:
            target.unlink(missing_ok=True)
    else:
        incoming = folder / f"{_INCOMING}{tag}"
        try:
            (rows, files) = conn.execute(
                f"""copy (
                    select *, strftime({quote(month_column)}, '%Y-%m') as __month
                    from ({select_sql})
                ) to {literal(str(incoming))}
                ({PARQUET_OPTIONS}, partition_by (__month), return_files true)"""
            ).fetchone()
            for index, written in enumerate(sorted(files or [])):
                written = Path(written)
                month = written.parent.name.split("=", 1)[1]
                target = folder / f"month={month}" / f"{tag}-{index}.parquet"
                target.parent.mkdir(exist_ok=True)
                written.rename(target)
                parts.append(
                    Part(target, dt.date.fromisoformat(month + "-01"), _row_count(conn, target))
                )
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
    written_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for part in parts:
        conn.execute(
            f"insert into {LAKE_PARTS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                str(part.path),
                part.path.relative_to(lake).as_posix(),
                export.name,
                export.relation,
                refresh_id,
                file_name,
                part.month,
                part.rows,
                part.path.stat().st_size,
                written_at,
            ],
        )
    if parts and widen_view:
        refresh_view(conn, export)
    return rows


def _row_count(conn: duckdb.DuckDBPyConnection, path: Path) -> int:
    (rows,) = conn.execute(
        f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({literal(str(path))})"
    ).fetchone()
    return int(rows)


def published_parts(published: Path) -> set[str] | None:
    """The parts the published warehouse lists, by their path inside its lake (None: no
    published warehouse, or one from before the lake, so nothing can be judged unlisted).

    By the path inside the lake, not the absolute one: a warehouse moved or copied together with
    its lake still names the old folder until its next refresh rebases the list (`ensure_lake`),
    and its parts are listed all the same."""
    if not published.exists():
        return set()
    with duckdb.connect(str(published), read_only=True) as conn:
        if not _has_list(conn):
            return None
        return {
            path for (path,) in conn.execute(f"select relative_path from {LAKE_PARTS}").fetchall()
        }


@dataclass(frozen=True)
class Removed:
    files: int
    bytes: int


def remove_unlisted(published: Path, lake: Path) -> Removed:
    """Delete every part in `lake` that the published warehouse does not list: what a failed or
    killed refresh wrote. Call only while holding the warehouse's refresh lock."""
    listed = published_parts(published)
    if listed is None or not lake.is_dir():
        return Removed(0, 0)
    files = removed_bytes = 0
    for incoming in sorted(lake.glob(f"*/*/{_INCOMING}*")):
        removed_bytes += sum(f.stat().st_size for f in incoming.rglob("*") if f.is_file())
        shutil.rmtree(incoming, ignore_errors=True)
    for part in sorted(lake.rglob("*.parquet")):
        if part.relative_to(lake).as_posix() in listed:
            continue
        with contextlib.suppress(FileNotFoundError):
            removed_bytes += part.stat().st_size
            part.unlink()
            files += 1
    return Removed(files, removed_bytes)


def listed_part_totals(database: Path) -> tuple[int, int]:
    """(parts, bytes) a warehouse file lists."""
    with duckdb.connect(str(database), read_only=True) as conn:
        parts, size = conn.execute(
            f"select count(*), coalesce(sum(size_bytes), 0) from {LAKE_PARTS}"
        ).fetchone()
    return int(parts), int(size)


def lake_bytes(lake: Path) -> int:
    return sum(path.stat().st_size for path in lake.rglob("*.parquet")) if lake.is_dir() else 0
