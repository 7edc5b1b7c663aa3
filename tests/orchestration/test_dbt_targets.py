"""dbt targets as the community uses them: an analyst's `dbt build` (target dev, the default)
builds into a file of its own and reads the published raw layer read-only; only a refresh (target
prod) writes a warehouse, and that into its private build file."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.lib.dbt_project import DBT_TARGET
from tests.conftest import REPO_ROOT

DBT = Path(sys.executable).with_name("dbt")


def _content(database: Path, relation: str) -> tuple:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(f"select count(*), bit_xor(hash(t)) from {relation} as t").fetchone()


def test_an_analysts_dbt_build_reads_the_published_raw_layer_and_never_writes_it(
    sample_warehouse, tmp_path
):
    published = tmp_path / "published" / "seatshift.duckdb"
    published.parent.mkdir()
    shutil.copyfile(sample_warehouse, published)
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    dev = tmp_path / "dev.duckdb"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SEATSHIFT_")
    }
    completed = subprocess.run(
        # From the project folder with no target named, as the README tells an analyst.
        # (cautious: only the tests whose every parent is selected).
        [str(DBT), "build", "--select", "+dim_accounts", "--indirect-selection", "cautious",
         "--exclude", "test_type:unit",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO_ROOT / "dbt_project",
        env=environment | {"SEATSHIFT_DBT_PUBLISHED": str(published),
                           "SEATSHIFT_DBT_DEV_DATABASE": str(dev)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:]
    # The published file is untouched, byte for byte; the analyst's models are in dev's file,
    # built from the published raw rows, so they equal the published build's.
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    assert _content(dev, "marts.dim_accounts") == _content(published, "marts.dim_accounts")
    with duckdb.connect(str(dev), read_only=True) as conn:
        raw_tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'crm'"
        ).fetchone()[0]
    assert raw_tables == 0, "dev copied the raw layer instead of reading it"


def test_the_refresh_builds_the_prod_target():
    from orchestration.defs.resources import dbt_resource

    assert DBT_TARGET == "prod"
    assert dbt_resource().target == "prod"
