"""A warehouse built by an older version of the project refreshes after an upgrade that changed a
seed's columns (a new price-book column, a dated price list): dbt would truncate the old seed
table and fail to copy the new CSV into it, so the refresh creates such seeds again from their
CSV, in its build file only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib import lake
from orchestration.lib.dbt_project import drop_seeds_with_changed_columns
from tests.conftest import REPO_ROOT


def _columns(warehouse: Path, schema: str, table: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return [
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
        ]


def test_a_refresh_after_seed_columns_changed_creates_those_seeds_again(
    sample_refreshed_with_vars,
):
    # The shared refresh's warehouse was left as an older project left it: a price list without
    # dates, and a price book whose components had no spend cap yet. It refreshed with vars (with
    # no vars, the same inputs would skip the build).
    run = sample_refreshed_with_vars
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = Path(f"{run.warehouse}.last_refresh.log").read_text(encoding="utf-8")
    assert "seeds whose columns changed are created again from their CSV:" in log
    assert "reference.model_costs" in log and "price_book.price_components" in log
    assert "effective_from" in _columns(run.warehouse, "reference", "model_costs")
    assert _columns(run.warehouse, "price_book", "price_components")[-2:] == [
        "cap_amount",
        "cap_policy",
    ]


def test_seeds_that_match_their_csv_are_left_alone(sample_warehouse, tmp_path):
    warehouse = tmp_path / "seatshift.duckdb"
    lake.copy_warehouse(sample_warehouse, warehouse)
    project = REPO_ROOT / "dbt_project"
    with duckdb.connect(str(warehouse)) as conn:
        dropped = drop_seeds_with_changed_columns(
            conn, project / "target" / "manifest.json", project
        )
    assert dropped == []
