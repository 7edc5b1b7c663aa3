"""The server's reads keep the published file attached: a new build replaces it on the next read,
a read still running on the old one is not cut off, and nothing else changes in what is read."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pytest

from dashboards.lib import queries
from dashboards.lib.queries import _core


def _publish(path: Path, value: int) -> None:
    """A build as the refresh publishes one: a new file swapped in with os.replace."""
    build = path.with_name(f"build-{value}.duckdb")
    with duckdb.connect(str(build)) as connection:
        connection.execute("create schema marts")
        connection.execute(f"create table marts.answer as select {value} as value")
    os.replace(build, path)


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    published = tmp_path / "seatshift.duckdb"
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(published))
    queries.clear_cache()
    queries.keep_attached(True)
    yield published
    queries.keep_attached(False)
    queries.clear_cache()


def _answer() -> int:
    return int(_core._read("the answer", "select value from marts.answer")["value"].iloc[0])


def test_a_read_keeps_the_file_attached_and_a_new_build_replaces_it(kept):
    _publish(kept, 1)
    assert _answer() == 1
    first = _core._attached
    assert first is not None and first.readers == 0
    assert _answer() == 1  # cached; the attachment is the same
    _publish(kept, 2)
    assert _answer() == 2  # a new file: attached in place of the old one
    assert _core._attached is not first
    assert _core._instance is not None
    listed = _core._instance.execute("select database_name from duckdb_databases()").fetchall()
    databases = {row[0] for row in listed}
    assert first.alias not in databases  # the old build's file is let go
    assert _core._attached.alias in databases


def test_a_read_running_on_the_old_build_finishes_and_the_next_reads_the_new_one(kept):
    _publish(kept, 1)
    current = queries.warehouse()
    started, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def slow_reader() -> None:
        with _core._connection(str(current.path), str(current.version)) as connection:
            started.set()
            release.wait(timeout=30)
            seen.append(connection.execute("select value from marts.answer").fetchone()[0])

    reader = threading.Thread(target=slow_reader)
    reader.start()
    assert started.wait(timeout=30)
    _publish(kept, 2)
    # the old attachment is in use: this read opens the new file on its own and sees the new build
    assert _answer() == 2
    release.set()
    reader.join(timeout=30)
    assert seen == [1]  # the running read was not cut off
    queries.clear_cache()
    assert _answer() == 2  # and now the new file is the kept one
    assert _core._attached is not None and _core._attached.version == queries.warehouse().version


def test_reads_outside_the_server_open_the_file_each_time(tmp_path, monkeypatch):
    published = tmp_path / "seatshift.duckdb"
    monkeypatch.setenv("SEATSHIFT_WAREHOUSE", str(published))
    queries.keep_attached(False)
    queries.clear_cache()
    _publish(published, 7)
    assert _answer() == 7
    assert _core._attached is None
    # nothing of this process holds the file: it can be written in place
    with duckdb.connect(str(published)) as connection:
        connection.execute("update marts.answer set value = 8")
