"""The raw layer as a lake: immutable Parquet parts beside the warehouse, listed inside it.

Real refreshes and real DuckDB files: the warehouse holds no raw row, and a warehouse copied or
moved with its lake reads its own parts. That a second refresh copies the warehouse file and no
part, and never touches a part once written, is held by the daily refresh of
tests/orchestration/test_incremental.py (a refresh of the sample costs minutes; one does both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import lake, loader, settings
from orchestration.lib.contract import EXPORTS, SEAT_SIGN, SEAT_SIGN_TABLE, raw_table_ddl
from orchestration.lib.contract.rules import PRICE_BOOK_MODELS_TABLE
from orchestration.lib.loader.dry_run import dry_run
from tests.conftest import SEATSHIFT, SEEDS_DIR, refresh_environment


def _parts(warehouse: Path) -> list[tuple[str, str, int]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(
            "select part_path, export, row_count from audit.lake_parts order by part_path"
        ).fetchall()


def _identity(path: str) -> tuple[int, int, int]:
    """What a rewrite or a copy would change: the inode, the size and the modification time."""
    stat = Path(path).stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def test_the_warehouse_file_holds_no_raw_row_and_every_raw_relation_reads_its_parts(
    sample_warehouse,
):
    parts = _parts(sample_warehouse)
    lake_folder = settings.lake_dir(sample_warehouse)
    assert parts, "the sample's rows are in lake parts"
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        kinds = dict(
            conn.execute(
                "select table_schema || '.' || table_name, table_type "
                "from information_schema.tables"
            ).fetchall()
        )
        for export in EXPORTS.values():
            assert kinds[export.relation] == "VIEW", export.relation
            (rows,) = conn.execute(f"select count(*) from {export.relation}").fetchone()
            listed = sum(count for _, name, count in parts if name == export.name)
            assert rows == listed, export.name
    for path, export, _ in parts:
        assert Path(path).is_file() and Path(path).is_relative_to(lake_folder)
        if export == "usage_events":  # the big export, one folder per month
            assert re.fullmatch(r"month=\d{4}-\d{2}", Path(path).parent.name), path
    # Every part on disk is listed: the sample's refresh left nothing behind.
    assert {str(path) for path in lake_folder.rglob("*.parquet")} == {p for p, _, _ in parts}


def test_a_copy_with_its_lake_reads_its_own_parts(sample_warehouse, tmp_path):
    copy = lake.copy_warehouse(sample_warehouse, tmp_path / "elsewhere" / "copy.duckdb")
    own = settings.lake_dir(copy)
    parts = _parts(copy)
    assert parts and all(Path(path).is_relative_to(own) for path, _, _ in parts)
    # Moved again with its lake: the next refresh's ensure_lake points the list at the new place.
    moved = tmp_path / "moved" / "copy.duckdb"
    moved.parent.mkdir()
    shutil.move(copy, moved)
    shutil.move(own, settings.lake_dir(moved))
    with duckdb.connect(str(moved)) as conn:
        lake.ensure_lake(conn, settings.lake_dir(moved))
        (rows,) = conn.execute("select count(*) from telemetry.usage_events").fetchone()
    assert rows == sum(count for _, export, count in parts if export == "usage_events")
    assert all(Path(path).is_relative_to(settings.lake_dir(moved)) for path, _, _ in _parts(moved))


def test_a_warehouse_moved_with_its_lake_keeps_every_part_at_its_next_refresh(
    sample_warehouse, tmp_path
):
    """A refresh removes unlisted parts before it rebases the list onto the moved lake: the parts
    are judged by their path inside the lake, so a moved warehouse loses none of them."""
    copy = lake.copy_warehouse(sample_warehouse, tmp_path / "before" / "copy.duckdb")
    moved = tmp_path / "after" / "copy.duckdb"
    moved.parent.mkdir()
    shutil.move(copy, moved)
    shutil.move(settings.lake_dir(copy), settings.lake_dir(moved))
    on_disk = {str(p): _identity(str(p)) for p in settings.lake_dir(moved).rglob("*.parquet")}
    assert on_disk and len(on_disk) == len(_parts(moved))
    # The list still names the folder the warehouse was copied to.
    assert all(Path(path).is_relative_to(settings.lake_dir(copy)) for path, _, _ in _parts(moved))

    removed = lake.remove_unlisted(moved, settings.lake_dir(moved))

    assert removed == lake.Removed(0, 0)
    assert {str(p): _identity(str(p)) for p in settings.lake_dir(moved).rglob("*.parquet")} == (
        on_disk
    )


def test_the_seat_signs_and_model_ids_are_rewritten_only_when_they_differ(tmp_path):
    """Every load ensures the two small tables the contract writes; one left as it should be is
    not replaced, one with other rows or other columns (an older warehouse) is."""
    signs = sorted(SEAT_SIGN.items())
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        loader.ensure_warehouse_schema(conn)
        conn.execute(f"insert into {PRICE_BOOK_MODELS_TABLE} values ('stale_model')")
        conn.execute(f"alter table {SEAT_SIGN_TABLE} rename column seat_sign to sign")
        loader.ensure_warehouse_schema(conn)
        again = conn.execute(
            f"select event_type, seat_sign from {SEAT_SIGN_TABLE} order by 1"
        ).fetchall()
        models = [
            row[0] for row in conn.execute(f"select * from {PRICE_BOOK_MODELS_TABLE}").fetchall()
        ]
        # as it should be: the same table object (its oid) stays
        (oid,) = conn.execute(
            "select table_oid from duckdb_tables() where schema_name || '.' || table_name = ?",
            [SEAT_SIGN_TABLE],
        ).fetchone()
        loader.ensure_warehouse_schema(conn)
        (oid_after,) = conn.execute(
            "select table_oid from duckdb_tables() where schema_name || '.' || table_name = ?",
            [SEAT_SIGN_TABLE],
        ).fetchone()
    assert again == signs
    assert "stale_model" not in models and models  # the dbt project's price book's ids
    assert oid_after == oid


def test_a_warehouse_from_before_the_lake_moves_its_raw_tables_into_parts(tmp_path):
    warehouse = tmp_path / "old.duckdb"
    export = EXPORTS["support_tickets"]
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(f"create schema {export.schema}")
        conn.execute(raw_table_ddl(export))
        conn.execute(
            f"""insert into {export.relation} (ticket_id, account_id, created_at, category,
                _refresh_id, _file_name, _row_number, _loaded_at)
            values ('t1', 'acc_1', '2026-01-02 03:04:05', 'billing', 'r1', 'f.csv', 1,
                '2026-01-03 00:00:00')"""
        )
        loader.ensure_warehouse_schema(conn)  # what every refresh runs first
        kind = conn.execute(
            "select table_type from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [export.schema, export.table],
        ).fetchone()[0]
        rows = conn.execute(f"select ticket_id, category from {export.relation}").fetchall()
    assert kind == "VIEW"
    assert rows == [("t1", "billing")]
    ((path, name, count),) = _parts(warehouse)
    assert (name, count) == ("support_tickets", 1)
    assert Path(path).is_relative_to(settings.lake_dir(warehouse))


def test_parts_no_published_build_lists_are_removed(sample_warehouse, tmp_path):
    warehouse = lake.copy_warehouse(sample_warehouse, tmp_path / "seatshift.duckdb")
    folder = lake.export_dir(settings.lake_dir(warehouse), EXPORTS["usage_events"])
    orphan = folder / "month=2026-01" / "killed-refresh.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as conn:
        conn.execute(f"copy (select 1 as x) to '{orphan}' (format parquet)")
    incoming = folder / ".incoming-killed"
    incoming.mkdir()
    (incoming / "half.parquet").write_bytes(b"PAR1")
    listed = {path for path, _, _ in _parts(warehouse)}

    removed = lake.remove_unlisted(warehouse, settings.lake_dir(warehouse))

    assert removed.files == 1 and removed.bytes > 0
    assert not orphan.exists() and not incoming.exists()
    assert {str(p) for p in settings.lake_dir(warehouse).rglob("*.parquet")} == listed


def test_a_warehouse_moved_without_its_lake_is_refused_with_what_to_do(sample_warehouse, tmp_path):
    """Its raw rows are in the lake folder beside it: a refresh or a dry run of the file alone
    stops before it reads a part or writes anything, naming the folder and the way out (DuckDB's
    "No files found that match the pattern" was all a refresh said)."""
    alone = tmp_path / "restored" / "seatshift.duckdb"
    alone.parent.mkdir()
    shutil.copyfile(sample_warehouse, alone)
    before = alone.read_bytes()
    listed = len(_parts(alone))

    with duckdb.connect(str(alone)) as conn, pytest.raises(lake.MissingParts) as refused:
        loader.ensure_warehouse_schema(conn, settings.lake_dir(alone))
    message = str(refused.value)
    assert message.startswith(f"{listed:,} of the {listed:,} raw-data parts this warehouse lists")
    assert "seatshift.duckdb.lake" in message and "Put that folder back" in message

    with pytest.raises(lake.MissingParts):
        dry_run(SEEDS_DIR, alone)
    checked = subprocess.run(
        [str(SEATSHIFT), "check", "--landing", str(SEEDS_DIR), "--warehouse", str(alone)],
        capture_output=True,
        text=True,
        env=refresh_environment(),
        timeout=600,
    )
    assert checked.returncode == 2, checked.stderr
    assert checked.stderr.startswith(f"check failed: {listed:,} of the {listed:,} raw-data parts")
    assert alone.read_bytes() == before
    assert not settings.lake_dir(alone).exists()

    # One part missing of a lake moved with the file: refused too, and the rest left alone.
    whole = lake.copy_warehouse(sample_warehouse, tmp_path / "partial" / "seatshift.duckdb")
    own = settings.lake_dir(whole)
    gone = sorted(own.rglob("*.parquet"))[0]
    gone.unlink()
    first_of_many = f"^1 of the {listed:,} raw-data parts"
    with duckdb.connect(str(whole)) as conn, pytest.raises(lake.MissingParts, match=first_of_many):
        lake.ensure_lake(conn, own)
    assert len(list(own.rglob("*.parquet"))) == listed - 1
