"""Fixtures of the dashboard tests. The session warehouse itself comes from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards._browser import dashboard_server
from tests.dashboards._support import private_copy, published_warehouse


@pytest.fixture
def dashboard_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The real `seatshift dashboard` server on a private copy of the sample warehouse."""
    warehouse = private_copy(published_warehouse(request), tmp_path)
    with dashboard_server(warehouse, tmp_path / "server.log") as url:
        yield url
