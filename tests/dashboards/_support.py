"""Helpers shared by the dashboard tests (not a conftest: the lead owns tests/conftest.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.settings import DASHBOARD_ENTRYPOINT, refresh_status_path

ENTRYPOINT = str(DASHBOARD_ENTRYPOINT)
# How the pages name the sample's segments: the glossary's labels (analyses/_glossary.yml,
# segment_<id>), typed here once more so that a test fails when a page names them otherwise.
SEGMENT_LABELS = {
    "smb": "SMB",
    "mid_market": "Mid-market",
    "enterprise": "Enterprise",
    "all": "All segments",
}


def published_warehouse(request: pytest.FixtureRequest) -> Path:
    """The lead's session `sample_warehouse`, or a skip that says what is missing."""
    try:
        return Path(request.getfixturevalue("sample_warehouse"))
    except pytest.FixtureLookupError:
        pytest.skip("needs the `sample_warehouse` fixture of tests/conftest.py")


def published_months(warehouse: Path) -> list:
    """The months of the build (fct_account_month's), first to last: what the period slider
    offers."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select distinct month from marts.fct_account_month order by month"
        ).fetchall()
    return [month for (month,) in rows]


def private_copy(warehouse: Path, folder: Path) -> Path:
    """A copy the test may put a status file beside, without touching the shared fixture."""
    copy = folder / "seatshift.duckdb"
    shutil.copyfile(warehouse, copy)
    return copy


def write_status(warehouse: Path, status: str, finished_at: str, reason: str | None) -> None:
    status_file = {
        "refresh_id": "test-refresh",
        "status": status,
        "started_at": finished_at,
        "finished_at": finished_at,
        "reason": reason,
    }
    refresh_status_path(warehouse).write_text(json.dumps(status_file), encoding="utf-8")


def decision_pack(warehouse: Path, out: Path, segment: str, model: str) -> str:
    """The decision pack `seatshift report` writes for a segment and proposal, as HTML text."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("seatshift")), "report", "--out", str(out),
         "--warehouse", str(warehouse), "--segment", segment, "--price-model", model],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (pack,) = out.glob("*.html")
    return pack.read_text(encoding="utf-8")


def setting_in_force(warehouse: Path, name: str) -> float:
    """A numeric setting's value in force in the build (marts.rpt_settings)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (value,) = connection.execute(
            "select value from marts.rpt_settings where name = ?", [name]
        ).fetchone()
    return float(value)
