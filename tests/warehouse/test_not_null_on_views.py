"""A mart that is a view keeps its not-null constraints: no engine enforces a view's constraints,
so the post-hook every model carries (macro not_null_constraints_hold) counts their nulls once the
view is created, and a null fails the model naming the column, as DuckDB fails a table mart."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import REPO_ROOT

DBT = Path(sys.executable).with_name("dbt")


def test_a_null_reaching_a_view_mart_fails_its_build_naming_the_column(sample_warehouse, tmp_path):
    warehouse = tmp_path / "seatshift.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        views = conn.execute(
            """
            select table_name from information_schema.tables
            where table_schema = 'marts' and table_type = 'VIEW' order by 1
            """
        ).fetchall()
        assert views == [("fct_seat_ledger",), ("fct_shadow_invoice_lines",)]
        # One null in a parent of each view, in a column the view's contract says is never null.
        conn.execute(
            """
            update intermediate.int_seat_events_sequenced set effective_at = null
            where event_id = (select min(event_id) from intermediate.int_seat_events_sequenced)
            """
        )
        conn.execute(
            """
            update intermediate.int_account_months_rated_by_price_model set amount_usd = null
            where (account_id, month) = (
                select (account_id, month)
                from intermediate.int_account_months_rated_by_price_model
                order by account_id, month limit 1
            )
            """
        )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SEATSHIFT_")
    }
    completed = subprocess.run(
        [str(DBT), "run", "--select", "fct_seat_ledger", "fct_shadow_invoice_lines",
         "--target", "prod",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO_ROOT / "dbt_project",
        env=environment | {"SEATSHIFT_DBT_DATABASE": str(warehouse)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = (completed.stdout + completed.stderr).replace('"', "")
    assert completed.returncode != 0, output[-3000:]
    # the hook's message names the relation (database.schema.name) and the column
    failures = [line for line in output.splitlines() if "NOT NULL constraint failed" in line]
    assert any("marts.fct_seat_ledger.effective_at holds 1 null" in line for line in failures), (
        output[-3000:]
    )
    assert any("marts.fct_shadow_invoice_lines.amount_usd holds" in line for line in failures), (
        output[-3000:]
    )
