"""The same dbt project on Spark (dbt-spark, `session`) builds the same marts as on DuckDB.

The committed sample is refreshed with the DuckDB engine (the suite's session warehouse); its raw
layer is written as a Parquet lake, which Spark registers where it lies; dbt-spark builds the
project, models, seeds, unit tests and data tests; the marts are published into a DuckDB file and
compared, every one, row for row with the DuckDB build (exact but for doubles: 1e-9 relative).

The Spark tests are marked `spark`: they need the `spark` extra and a Java runtime, and take
minutes. `make test-spark` installs both and runs them; `make test` leaves them out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import spark
from orchestration.lib.contract import EXPORTS
from tests.warehouse.spark_compare import compare_marts

# When the raw rows were loaded is the one thing two builds of the same landing folder may differ
# in; a lake written from the DuckDB build carries the same load times, so nothing is skipped.
SKIPPED_COLUMNS: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def spark_build(sample_warehouse, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("spark")
    lake = folder / "lake"
    spark.lake_from_warehouse(sample_warehouse, lake)
    serving = folder / "serving.duckdb"
    build = spark.build_on_spark(lake, serving, work=folder / "spark")
    print(
        f"\nSpark build of the sample: {build.passed} of {len(build.results)} nodes passed "
        f"in {build.seconds:.0f} s"
    )
    return {"build": build, "serving": serving, "lake": lake, "work": folder / "spark"}


@pytest.mark.spark
def test_the_spark_build_passes_every_node(spark_build):
    build = spark_build["build"]
    assert build.returncode == 0 and not build.failed, (
        f"failed on Spark: {build.failed}\n{build.log[-6000:]}"
    )
    assert build.passed > 500  # models, seeds, unit tests and data tests all ran


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
    assert compare_marts(sample_warehouse, serving, skip_columns=SKIPPED_COLUMNS) == {}


@pytest.mark.spark
def test_a_raw_relation_reads_new_columns_as_null_and_an_export_without_parts_as_empty(
    spark_build, tmp_path
):
    """Registration over a lake: an older part lacking a column reads it as null; an export with
    no part yet is an empty table with the contract's columns (checked in the build's catalog)."""
    from pyspark.sql import SparkSession

    lake = tmp_path / "lake"
    accounts = EXPORTS["accounts"]
    source = spark_build["lake"] / accounts.schema / accounts.table / "part-0.parquet"
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
