"""The same dbt project through a Spark Thrift server, the way a cluster is used.

A real Spark Thrift server (HiveThriftServer2, from the pyspark package's jars) on 127.0.0.1, the
DuckDB build's own lake registered through it and `dbt build --target thrift` run against it; the
marts it builds are read back through the server and compared row for row with the DuckDB build.
A file of its own so that `make test-spark`'s second worker runs it while the first runs the
whole-project Spark refresh (tests/warehouse/test_spark.py). Marked `spark`, as those are.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from orchestration.lib import settings, spark
from tests.warehouse.spark_compare import compare_marts, sample_lake

# The Thrift build reads the DuckDB build's own parts (load times included): no column is skipped.
SKIPPED_COLUMNS: dict[str, set[str]] = {}
# Through the Thrift server: every staging model (together they read every source) and a few
# marts with everything upstream of them (seeds, intermediates, the rating, their data tests;
# the unit tests ran in the session build).
THRIFT_MARTS = ("dim_accounts", "fct_usage_mix_monthly", "fct_account_month")
THRIFT_SELECTION = (
    "--select", "path:models/staging", *(f"+{mart}" for mart in THRIFT_MARTS),
    "--exclude", "resource_type:unit_test", "--indirect-selection", "cautious",
)  # fmt: skip


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
