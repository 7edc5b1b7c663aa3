"""The same dbt project on Spark (dbt-spark) builds the same marts as on DuckDB.

The committed sample is refreshed twice from the same landing folder: with the DuckDB engine (the
suite's session warehouse) and with `seatshift refresh --engine spark`, where dbt-spark builds the
whole project (models, seeds, unit tests and data tests) over the lake with a local Spark in dbt's
process (`session`) and the marts are published into the warehouse file. Every mart is compared
row for row with the DuckDB build (exact but for doubles: 1e-9 relative; only the load time, which
two refreshes cannot share, is left out). Then once the way a cluster is used: a real Spark Thrift
server (HiveThriftServer2, from the pyspark package's jars) on 127.0.0.1, the DuckDB build's own
lake registered through it and `dbt build --target thrift` run against it.

The Spark tests are marked `spark`: they need the `spark` extra and a Java runtime, and take
minutes. `make test-spark` installs both and runs them; `make test` leaves them out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import lake as lake_module
from orchestration.lib import settings, spark
from orchestration.lib.contract import EXPORTS
from tests.warehouse.spark_compare import compare_marts

# The Thrift build reads the DuckDB build's own parts (load times included): no column is skipped.
SKIPPED_COLUMNS: dict[str, set[str]] = {}
# The Spark refresh loaded the same landing folder itself: only when its rows were loaded differs.
LOAD_TIMES = {"rpt_data_as_of": {"last_loaded_at"}}
_PASSED = {"success", "pass", "skipped", "no-op"}

# Through the Thrift server: every staging model (together they read every source) and a few
# marts with everything upstream of them (seeds, intermediates, the rating, their data tests;
# the unit tests ran in the session build).
THRIFT_MARTS = ("dim_accounts", "fct_usage_mix_monthly", "fct_account_month")
THRIFT_SELECTION = (
    "--select", "path:models/staging", *(f"+{mart}" for mart in THRIFT_MARTS),
    "--exclude", "resource_type:unit_test", "--indirect-selection", "cautious",
)  # fmt: skip


def sample_lake(warehouse: Path) -> Path:
    """The published warehouse's lake, holding exactly the parts the warehouse lists (Spark reads
    every part in a folder)."""
    lake = settings.lake_dir(warehouse)
    on_disk = {str(part) for part in lake.rglob("*.parquet") if not part.name.startswith(".")}
    assert on_disk == lake_module.published_parts(warehouse)
    return lake


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def thrift_server(tmp_path_factory):
    """A Spark Thrift server (HiveThriftServer2) from the pyspark package's jars, on 127.0.0.1 and
    a free port, with a Derby metastore of its own; stopped (its process group, by the PID this
    fixture started) whatever happens."""
    import pyspark

    work = tmp_path_factory.mktemp("thrift")
    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    port = _free_port()
    command = [
        str(spark_submit),
        "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master", "local[2]",
        "--driver-memory", "2g",
        "--name", "seatshift-test-thrift-server",
        "--conf", f"spark.sql.warehouse.dir={work / 'warehouse'}",
        "--conf", "spark.hadoop.javax.jdo.option.ConnectionURL="
                  f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={work}",
        "--conf", "spark.sql.session.timeZone=UTC",
        "--conf", "spark.sql.shuffle.partitions=2",
        "--conf", "spark.ui.enabled=false",
        "spark-internal",
    ]  # fmt: skip
    environment = settings.child_environment(
        HIVE_SERVER2_THRIFT_PORT=str(port),
        HIVE_SERVER2_THRIFT_BIND_HOST="127.0.0.1",
        SPARK_LOCAL_IP="127.0.0.1",
    )
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        command, cwd=work, env=environment, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, (
                f"the Thrift server exited:\n{(work / 'server.log').read_text()[-4000:]}"
            )
            try:
                spark.thrift_connection("127.0.0.1", port).close()
                break
            except Exception:
                assert time.monotonic() < deadline, "the Thrift server did not listen in 300 s"
                time.sleep(3)
        yield {"host": "127.0.0.1", "port": port, "work": work}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


@pytest.mark.spark
def test_a_thrift_server_builds_the_same_marts_from_every_source(
    thrift_server, sample_warehouse, tmp_path
):
    """The cluster's way: register the lake through the server, `dbt build --target thrift`, read
    the marts back through the server and compare them with the DuckDB build."""
    host, port = thrift_server["host"], thrift_server["port"]
    connection = spark.thrift_connection(host, port)
    try:
        spark.register_lake_over_thrift(
            connection, sample_lake(sample_warehouse), thrift_server["work"] / "empty"
        )
        build = spark.build_on_thrift(host, port, threads=2, extra_dbt_args=THRIFT_SELECTION)
        print(
            f"\nThrift build of the selection: {build.passed} of {len(build.results)} nodes "
            f"passed in {build.seconds:.0f} s"
        )
        assert build.returncode == 0 and not build.failed, (
            f"failed through the Thrift server: {build.failed}\n{build.log[-6000:]}"
        )
        project = settings.dbt_project_dir()
        manifest = json.loads((project / spark.THRIFT_TARGET_PATH / "manifest.json").read_text())
        unread = [
            source
            for source in manifest["sources"]
            if not set(manifest["child_map"].get(source, ())) & set(build.results)
        ]
        assert not unread, f"sources no node of the selection read: {unread}"
        assert set(THRIFT_MARTS) <= set(build.marts)
        serving = tmp_path / "thrift.duckdb"
        spark.publish_marts_over_thrift(connection, serving, project, build.marts)
    finally:
        connection.close()
    differences = compare_marts(
        sample_warehouse, serving, skip_columns=SKIPPED_COLUMNS, only=set(build.marts)
    )
    assert differences == {}


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
