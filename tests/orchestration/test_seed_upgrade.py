"""A warehouse built by an older version of the project refreshes after an upgrade that changed a
seed's columns (a new price-book column, a dated price list): dbt would truncate the old seed
table and fail to copy the new CSV into it, so the refresh creates such seeds again from their
CSV, in its build file only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.lib import lake
from orchestration.lib.dbt_project import drop_seeds_with_changed_columns
from tests.conftest import REPO_ROOT, run_refresh


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
    sample_warehouse, sample_landing, tmp_path
):
    warehouse = tmp_path / "seatshift.duckdb"
    lake.copy_warehouse(sample_warehouse, warehouse)
    # The warehouse as an older project left it: a price list without dates, and a price book
    # whose components had no spend cap yet (and an integer where a decimal is declared now).
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "create or replace table reference.model_costs as select model, "
            "input_usd_per_1k_tokens, output_usd_per_1k_tokens from reference.model_costs"
        )
        conn.execute("alter table price_book.price_components drop column cap_policy")
        conn.execute("alter table price_book.price_components drop column cap_amount")
    assert "effective_from" not in _columns(warehouse, "reference", "model_costs")

    # vars equal to the defaults, so dbt builds (with no vars, the same inputs would skip it)
    run = run_refresh(sample_landing, warehouse, "--vars", json.dumps({"choice_inertia_pct": 0.05}))

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = Path(f"{warehouse}.last_refresh.log").read_text(encoding="utf-8")
    assert "seeds whose columns changed are created again from their CSV:" in log
    assert "reference.model_costs" in log and "price_book.price_components" in log
    assert "effective_from" in _columns(warehouse, "reference", "model_costs")
    assert _columns(warehouse, "price_book", "price_components")[-2:] == [
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
