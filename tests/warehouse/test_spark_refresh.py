"""`seatshift refresh --engine spark`: the whole refresh with dbt on Spark, as an operator runs it.

The committed sample is loaded and validated as always, into the lake; dbt-spark builds the
project over the lake's parts; the marts are published into the warehouse file. Every mart must
equal the DuckDB engine's build of the same landing folder (the suite's sample warehouse), row for
row; only the load time, which two refreshes cannot share, is left out. Marked `spark` (the extra
and Java; minutes): `make test-spark` runs it.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import copy_seeds, run_refresh
from tests.warehouse.spark_compare import compare_marts

# When the rows were loaded: the one thing two refreshes of the same landing folder differ in.
LOAD_TIMES = {"rpt_data_as_of": {"last_loaded_at"}}


@pytest.mark.spark
def test_a_refresh_on_spark_publishes_the_marts_of_the_duckdb_engine(sample_warehouse, tmp_path):
    landing = copy_seeds(tmp_path / "landing")
    warehouse = tmp_path / "warehouse" / "seatshift.duckdb"

    run = run_refresh(landing, warehouse, "--engine", "spark", timeout=2400)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert compare_marts(sample_warehouse, warehouse, skip_columns=LOAD_TIMES) == {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        (engine,) = conn.execute(
            "select inputs_key from audit.dbt_builds order by built_at desc limit 1"
        ).fetchone()
        (published,) = conn.execute(
            "select count(*) from audit.refresh_log where status = 'published'"
        ).fetchone()
    assert engine == "spark"
    assert published == 1
