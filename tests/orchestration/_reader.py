"""A reader that polls a published warehouse read-only, the way the dashboard does, while a refresh
runs beside it: it must never meet a lock error or a half build (shared by the fault and hostile
input tests)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb


class PollingReader(threading.Thread):
    """Opens the published file read-only every few milliseconds, as the dashboard does."""

    def __init__(self, warehouse: Path):
        super().__init__(daemon=True)
        self.warehouse = warehouse
        self.reads = 0
        self.errors: list[str] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                with duckdb.connect(str(self.warehouse), read_only=True) as conn:
                    (months,) = conn.execute(
                        "select count(*) from marts.fct_account_month"
                    ).fetchone()
                    (published,) = conn.execute(
                        "select count(*) from audit.refresh_log where status = 'published'"
                    ).fetchone()
                if months == 0 or published == 0:
                    self.errors.append(f"a half build: {months} account-months, {published} runs")
                self.reads += 1
            except duckdb.Error as error:
                self.errors.append(f"{type(error).__name__}: {error}")
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


@contextlib.contextmanager
def polling_reader(warehouse: Path) -> Iterator[PollingReader]:
    """A PollingReader running for the length of the block."""
    reader = PollingReader(warehouse)
    reader.start()
    try:
        yield reader
    finally:
        reader.stop()
