"""The same dbt project on Spark (dbt-spark) builds the same marts as on DuckDB.

The committed sample is refreshed twice from the same landing folder: with the DuckDB engine (the
suite's session warehouse) and with `seatshift refresh --engine spark`, where dbt-spark builds the
whole project (models, seeds, unit tests and data tests) over the lake with a local Spark in dbt's
process (`session`) and the marts are published into the warehouse file. Every mart is compared
row for row with the DuckDB build (exact but for doubles: 1e-9 relative; only the load time, which
two refreshes cannot share, is left out). The way a cluster is used, through a Thrift server, is
tests/warehouse/test_spark_thrift.py.

The Spark tests are marked `spark`: they need the `spark` extra and a Java runtime, and take
minutes. `make test-spark` installs both and runs them; `make test` leaves them out.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings, spark
from orchestration.lib.contract import EXPORTS
from tests.warehouse.spark_compare import compare_marts, sample_lake

# The Spark refresh loaded the same landing folder itself: only when its rows were loaded differs.
LOAD_TIMES = {"rpt_data_as_of": {"last_loaded_at"}}
_PASSED = {"success", "pass", "skipped", "no-op"}


@pytest.fixture(scope="module")
def spark_build(spark_refresh) -> dict:
    """The Spark build of the sample that `seatshift refresh --engine spark` ran (the suite's one
    whole-project Spark build, shared with the dashboard's Spark tests): dbt's result per node,
    the marts it published into the refreshed warehouse, and that warehouse's lake."""
    assert spark_refresh.returncode == 0, spark_refresh.stdout[-4000:] + spark_refresh.stderr
    warehouse = spark_refresh.warehouse
    report = json.loads((settings.warehouse_spark_dir(warehouse) / "build.json").read_text())
    return {
        "results": report["results"],
        "marts": report["marts"],
        "serving": warehouse,
        "lake": sample_lake(warehouse),
        "log": spark_refresh.stdout[-6000:],
    }


@pytest.mark.spark
def test_the_spark_build_passes_every_node(spark_build):
    results = spark_build["results"]
    failed = {node: status for node, status in results.items() if status not in _PASSED}
    assert not failed, f"failed on Spark: {failed}\n{spark_build['log']}"
    # models, seeds, unit tests and data tests all ran
    assert sum(status in {"success", "pass"} for status in results.values()) > 500
    assert any(node.startswith("unit_test.") for node in results)


@pytest.mark.spark
def test_every_mart_equals_the_duckdb_build(spark_build, sample_warehouse):
    serving = spark_build["serving"]
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        expected = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert len(expected) >= 39
    assert expected <= set(spark_build["marts"])
    assert compare_marts(sample_warehouse, serving, skip_columns=LOAD_TIMES) == {}


@pytest.mark.spark
def test_a_raw_relation_reads_new_columns_as_null_and_an_export_without_parts_as_empty(
    spark_build, tmp_path
):
    """Registration over a lake: an older part lacking a column reads it as null; an export with
    no part yet is an empty table with the contract's columns (checked in the build's catalog)."""
    from pyspark.sql import SparkSession

    lake = tmp_path / "lake"
    accounts = EXPORTS["accounts"]
    source = sorted((spark_build["lake"] / accounts.schema / accounts.table).rglob("*.parquet"))[0]
    old_part = lake / accounts.schema / accounts.table / "part-0.parquet"
    old_part.parent.mkdir(parents=True)
    with duckdb.connect() as conn:  # an older export without `country`
        conn.execute(
            f"copy (select * exclude (country) from read_parquet('{source}')) "
            f"to '{old_part}' (format parquet)"
        )
    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .config("spark.sql.catalogImplementation", "in-memory")
        .getOrCreate()
    )
    try:
        for statement in spark.registration_statements(lake, tmp_path / "empty"):
            session.sql(statement)
        rows = session.sql("select count(*), count(country) from crm.accounts").collect()[0]
        assert rows[0] > 0 and rows[1] == 0
        fx = session.table("treasury.fx_rates")
        assert fx.count() == 0
        assert [field.name for field in fx.schema.fields] == [
            name for name, _ in spark.raw_columns(EXPORTS["fx_rates"])
        ]
    finally:
        session.stop()
    assert not (lake / "treasury").exists()  # nothing is created inside the lake


def test_registration_names_every_raw_relation_once(tmp_path):
    statements = spark.registration_statements(tmp_path / "lake", tmp_path / "empty")
    created = [s.split()[2] for s in statements if s.startswith("create table")]
    assert sorted(created) == sorted(
        [export.relation for export in EXPORTS.values()] + ["entitlements.seat_event_signs"]
    )
    assert all("varchar" not in statement for statement in statements)
    shutil.rmtree(tmp_path / "empty")
    assert not Path(tmp_path / "lake").exists()
