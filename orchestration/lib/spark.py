"""The same dbt project on Spark: register the lake, `dbt build --target spark`, publish the marts.

The raw layer as a lake is one folder per raw relation of the export contract,
`<lake>/<schema>/<table>/**/*.parquet` (the usage events one level further, `month=YYYY-MM/`).
Spark reads those folders where they are: each raw relation becomes an external Parquet table over
its folder, with the contract's columns and types declared (so a column that only newer parts
carry reads as null in older ones, and an export with no part yet is an empty table of the right
shape). Then dbt-spark builds the project (`profiles.yml`, target `spark`: a local Spark in dbt's
own process), and the marts, which are small, are published into a DuckDB file for the dashboard:
Spark writes each mart as Parquet, DuckDB copies it in with the column types of the marts'
contracts, the very types a DuckDB build gives them.

Three marts hold SQL text, not data: `rpt_rating_sql`, `rpt_projection_sql` and `rpt_trigger_sql`
publish the project's macros compiled for the engine the dashboard runs them on, which is DuckDB
whatever engine built the marts. They are compiled by dbt-duckdb into the serving file (they read
no relation).

Everything Spark-side runs in one child process (`python -m orchestration.lib.spark`): one JVM
registers the tables, runs dbt in-process (dbt-spark's `session` method takes the running Spark
session) and writes the marts, and its embedded metastore is released when it exits. pyspark and
dbt-spark are the optional extra `spark` (`uv sync --extra spark`); nothing here imports them at
module level.

On a cluster, the same steps go through its Spark Thrift server (profiles.yml, target `thrift`):
`register_lake_over_thrift`, `build_on_thrift`, then `publish_marts_over_thrift` reads the marts
back through the server (docs/warehouse.md, "Running the same project on a Spark cluster").
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib import settings
from orchestration.lib.contract import EXPORTS, LINEAGE_COLUMNS, SEAT_SIGN, SEAT_SIGN_TABLE, Export

SPARK_TARGET = "spark"
# The marts whose rows are SQL text for the dashboard's DuckDB: compiled by dbt-duckdb (see above).
DASHBOARD_SQL_MARTS = ("rpt_rating_sql", "rpt_projection_sql", "rpt_trigger_sql")
MARTS_SCHEMA = "marts"
# dbt-spark keeps its own target folder, so switching engines never forces a full re-parse of the
# other's (dbt re-parses everything when the profile changes).
TARGET_PATH = "target/spark"
# Spark's share of a machine the suite shares; `SEATSHIFT_SPARK_DRIVER_MEMORY` overrides it.
DEFAULT_DRIVER_MEMORY = settings.DEFAULT_SPARK_DRIVER_MEMORY

_SPARK_TYPES = {"varchar": "string"}


def spark_type(raw_type: str) -> str:
    """The contract's raw type (DuckDB's spelling) as Spark SQL spells it."""
    return _SPARK_TYPES.get(raw_type, raw_type).replace(" ", "")


def raw_columns(export: Export) -> list[tuple[str, str]]:
    """(name, Spark type) of the raw relation: the contract's columns, then lineage."""
    columns = [(column.name, column.raw_type) for column in export.columns]
    columns += list(LINEAGE_COLUMNS.items())
    return [(name, spark_type(kind)) for name, kind in columns]


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def has_parts(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def registration_statements(lake: str | Path, empty_root: str | Path) -> list[str]:
    """Spark SQL that (re)registers every raw relation over its lake folder, and the seat signs.

    An export without a part yet points at an empty folder under `empty_root` (never a folder
    created inside the lake, which only its writer changes)."""
    lake, empty_root = Path(lake), Path(empty_root)
    statements = [
        f"create database if not exists {schema}"
        for schema in sorted({export.schema for export in EXPORTS.values()})
    ]
    for export in EXPORTS.values():
        folder = lake / export.schema / export.table
        if not has_parts(folder):
            folder = empty_root / export.schema / export.table
            folder.mkdir(parents=True, exist_ok=True)
        columns = ", ".join(f"`{name}` {kind}" for name, kind in raw_columns(export))
        statements += [
            f"drop table if exists {export.relation}",
            f"create table {export.relation} ({columns}) using parquet "
            "options (recursiveFileLookup 'true', mergeSchema 'true') "
            f"location {_literal(folder.resolve().as_uri())}",
        ]
    # The seat signs are the contract's data, not an export: every build writes them anew.
    signs = ", ".join(f"({_literal(kind)}, {sign})" for kind, sign in SEAT_SIGN.items())
    statements += [
        f"drop table if exists {SEAT_SIGN_TABLE}",
        f"create table {SEAT_SIGN_TABLE} using parquet as "
        f"select cast(event_type as string) as event_type, cast(seat_sign as int) as seat_sign "
        f"from values {signs} as signs (event_type, seat_sign)",
    ]
    return statements


def missing_requirements() -> str | None:
    """What this machine lacks to build on Spark, in words, or None."""
    import importlib.util

    missing = []
    if (
        importlib.util.find_spec("pyspark") is None
        or importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        missing.append("the `spark` extra (`uv sync --extra spark`; `make test-spark` installs it)")
    if shutil.which("java") is None:
        missing.append("Java (Debian: `apt-get install default-jre-headless`)")
    return " and ".join(missing) or None


def spark_dir(override: str | Path | None = None) -> Path:
    """Spark's catalog (Derby metastore) and tables: `$SEATSHIFT_SPARK_DIR`, else `data/spark`."""
    return settings.spark_dir(override)


@dataclass
class SparkBuild:
    """What `build_on_spark` did: dbt's exit code, its results per node, the published marts."""

    returncode: int
    seconds: float
    results: dict[str, str] = field(default_factory=dict)  # unique_id -> status
    marts: list[str] = field(default_factory=list)
    log: str = ""

    @property
    def passed(self) -> int:
        return sum(status in {"success", "pass"} for status in self.results.values())

    @property
    def failed(self) -> dict[str, str]:
        return {
            node: status
            for node, status in self.results.items()
            if status not in {"success", "pass", "skipped", "no-op"}
        }


def _child_environment(work: Path, driver_memory: str | None) -> dict[str, str]:
    memory = driver_memory or settings.spark_driver_memory()
    environment = settings.child_environment(
        SEATSHIFT_SPARK_DIR=str(work),
        SEATSHIFT_SPARK_DRIVER_MEMORY=memory,
        # pyspark starts its JVM with the driver's memory from spark-submit's arguments.
        PYSPARK_SUBMIT_ARGS=f"--driver-memory {memory} pyspark-shell",
        PYTHONUNBUFFERED="1",
    )
    environment.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the host's name
    return environment


def build_on_spark(
    lake: str | Path,
    serving: str | Path,
    *,
    work: str | Path | None = None,
    dbt_vars: str = "",
    project_dir: str | Path | None = None,
    full_refresh: bool = True,
    driver_memory: str | None = None,
    extra_dbt_args: tuple[str, ...] = (),
    keep_marts: bool = False,
    timeout: float = 3600,
) -> SparkBuild:
    """Register `lake`, `dbt build --target spark`, and publish the marts into the DuckDB file
    `serving` (schema `marts`, replaced table by table in one transaction). Returns the outcome;
    the marts are published only when dbt's build passed."""
    work_dir = spark_dir(work)
    project = Path(project_dir or settings.dbt_project_dir()).resolve()
    out = work_dir / "marts"
    shutil.rmtree(out, ignore_errors=True)
    report = work_dir / "build.json"
    report.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "orchestration.lib.spark",
        "--lake", str(Path(lake).resolve()),
        "--project-dir", str(project),
        "--out", str(out),
        "--report", str(report),
        "--vars", dbt_vars,
    ]  # fmt: skip
    if full_refresh:
        command.append("--full-refresh")
    if keep_marts:
        command.append("--keep-marts")
    # `--dbt-arg=--select`: a separate value that starts with a dash would be read as an option.
    command += [f"--dbt-arg={arg}" for arg in extra_dbt_args]
    started = time.monotonic()
    completed = subprocess.run(
        command,
        env=_child_environment(work_dir, driver_memory),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    outcome = json.loads(report.read_text()) if report.exists() else {}
    build = SparkBuild(
        returncode=completed.returncode,
        seconds=seconds,
        results=outcome.get("results", {}),
        marts=outcome.get("marts", []),
        log=completed.stdout + completed.stderr,
    )
    if completed.returncode == 0:
        publish_marts(out, Path(serving), project, build.marts, dbt_vars=dbt_vars)
    return build


def contract_types(project: Path, target_path: str = TARGET_PATH) -> dict[str, dict[str, str]]:
    """mart -> {column: data type} from the marts' enforced contracts (the manifest of the build):
    the contracts spell DuckDB's types, which a DuckDB build's marts have."""
    manifest = json.loads((project / target_path / "manifest.json").read_text())
    types = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != MARTS_SCHEMA:
            continue
        types[node["alias"] or node["name"]] = {
            name: column.get("data_type") for name, column in node["columns"].items()
        }
    return types


def publish_marts(
    parquet_root: Path,
    serving: Path,
    project: Path,
    marts: list[str],
    *,
    dbt_vars: str = "",
    target_path: str = TARGET_PATH,
) -> None:
    """Copy each mart Spark wrote (`<parquet_root>/<mart>/*.parquet`) into `serving`'s schema
    `marts`, cast to its contract's types, then build the dashboard's SQL marts with dbt-duckdb.
    `target_path`: the dbt target folder (under `project`) of the build that made them."""
    types = contract_types(project, target_path)
    serving.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(serving)) as conn:
        conn.execute("begin")
        conn.execute(f"create schema if not exists {MARTS_SCHEMA}")
        for mart in marts:
            if mart in DASHBOARD_SQL_MARTS:
                continue
            files = (parquet_root / mart).as_posix() + "/*.parquet"
            _copy_mart(conn, mart, "read_parquet(?)", [files], types.get(mart, {}))
        conn.execute("commit")
    build_dashboard_sql_marts(serving, project, dbt_vars=dbt_vars)


def _copy_mart(
    conn: duckdb.DuckDBPyConnection,
    mart: str,
    source: str,
    parameters: list,
    declared: dict[str, str],
) -> None:
    """`marts.<mart>` in `conn` from `source` (a table function or relation), every column cast to
    the type its contract declares."""
    present = [
        name
        for (name,) in conn.execute(
            f"select column_name from (describe select * from {source})", parameters
        ).fetchall()
    ]
    columns = ", ".join(
        f'cast("{name}" as {declared[name]}) as "{name}"' if declared.get(name) else f'"{name}"'
        for name in present
    )
    conn.execute(
        f'create or replace table {MARTS_SCHEMA}."{mart}" as select {columns} from {source}',
        parameters,
    )


def build_dashboard_sql_marts(serving: Path, project: Path, *, dbt_vars: str = "") -> None:
    """`dbt run` of the SQL-text marts with dbt-duckdb into `serving` (they read no relation)."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt), "run", "--target", "prod", "--select", *DASHBOARD_SQL_MARTS,
        "--project-dir", str(project), "--profiles-dir", str(project),
        "--target-path", str(project / "target" / "dashboard_sql"),
    ]  # fmt: skip
    if dbt_vars.strip():
        command += ["--vars", dbt_vars]
    environment = settings.child_environment(SEATSHIFT_DBT_DATABASE=str(serving))
    completed = subprocess.run(
        command, env=environment, cwd=project, capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        raise RuntimeError(
            "dbt-duckdb could not build the dashboard's SQL marts:\n"
            + completed.stdout[-4000:]
            + completed.stderr[-2000:]
        )


# ---------------------------------------------------------------- a cluster's Spark Thrift server

THRIFT_TARGET = "thrift"
THRIFT_TARGET_PATH = "target/thrift"


def thrift_connection(host: str, port: int, user: str = "seatshift"):
    """A HiveServer2 connection to a Spark Thrift server (PyHive, of the `spark` extra)."""
    from pyhive import hive

    return hive.connect(host=host, port=int(port), username=user)


def register_lake_over_thrift(connection, lake: str | Path, empty_root: str | Path) -> None:
    """Register the lake's raw relations in the server's metastore (`registration_statements`):
    the server's Spark must read `lake` at that path (on a cluster: HDFS, S3, a shared mount)."""
    cursor = connection.cursor()
    for statement in registration_statements(lake, empty_root):
        cursor.execute(statement)
    cursor.close()


def build_on_thrift(
    host: str,
    port: int,
    *,
    user: str = "seatshift",
    threads: int = 4,
    project_dir: str | Path | None = None,
    dbt_vars: str = "",
    full_refresh: bool = True,
    extra_dbt_args: tuple[str, ...] = (),
    timeout: float = 3600,
) -> SparkBuild:
    """`dbt build --target thrift` against a Spark Thrift server whose metastore has the raw
    relations (`register_lake_over_thrift`). `marts`: the marts the build wrote."""
    project = Path(project_dir or settings.dbt_project_dir()).resolve()
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt), "build", "--target", THRIFT_TARGET, "--project-dir", str(project),
        "--profiles-dir", str(project), "--target-path", str(project / THRIFT_TARGET_PATH),
    ]  # fmt: skip
    if dbt_vars.strip():
        command += ["--vars", dbt_vars]
    if full_refresh:
        command.append("--full-refresh")
    command += list(extra_dbt_args)
    environment = settings.child_environment(
        SEATSHIFT_SPARK_THRIFT_HOST=host,
        SEATSHIFT_SPARK_THRIFT_PORT=str(port),
        SEATSHIFT_SPARK_THRIFT_USER=user,
        SEATSHIFT_SPARK_THRIFT_THREADS=str(threads),
    )
    run_results = project / THRIFT_TARGET_PATH / "run_results.json"
    run_results.unlink(missing_ok=True)
    started = time.monotonic()
    completed = subprocess.run(
        command, env=environment, cwd=project, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.monotonic() - started
    results = {}
    if run_results.exists():
        results = {
            result["unique_id"]: result["status"]
            for result in json.loads(run_results.read_text())["results"]
        }
    marts_by_node = {
        unique_id: name
        for unique_id, name in _mart_nodes(project, THRIFT_TARGET_PATH).items()
        if name not in DASHBOARD_SQL_MARTS
    }
    return SparkBuild(
        returncode=completed.returncode,
        seconds=seconds,
        results=results,
        marts=sorted(
            name for node, name in marts_by_node.items() if results.get(node) == "success"
        ),
        log=completed.stdout + completed.stderr,
    )


def _mart_nodes(project: Path, target_path: str) -> dict[str, str]:
    """unique_id -> name of the project's marts (the manifest of the build)."""
    manifest = json.loads((project / target_path / "manifest.json").read_text())
    return {
        unique_id: node["alias"] or node["name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] == MARTS_SCHEMA
    }


def _as_text(value) -> str | None:
    """A value as the server returned it, as text DuckDB casts back exactly (a double's repr
    round-trips; a decimal without an exponent)."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def publish_marts_over_thrift(
    connection, serving: Path, project: Path, marts: list[str], *, dbt_vars: str = ""
) -> None:
    """Publish the marts a Thrift server built into `serving`, as `publish_marts` does: the marts
    are small, so their rows come through the connection (as text, cast to the contracts' types),
    and the cluster needs no path the orchestrating machine can read."""
    import pyarrow as pa

    types = contract_types(project, THRIFT_TARGET_PATH)
    serving.parent.mkdir(parents=True, exist_ok=True)
    cursor = connection.cursor()
    with duckdb.connect(str(serving)) as conn:
        conn.execute("begin")
        conn.execute(f"create schema if not exists {MARTS_SCHEMA}")
        for mart in marts:
            if mart in DASHBOARD_SQL_MARTS:
                continue
            cursor.execute(f"select * from {MARTS_SCHEMA}.{mart}")
            names = [column[0].split(".")[-1] for column in cursor.description]
            rows = cursor.fetchall()
            incoming = pa.table(
                {
                    name: pa.array([_as_text(row[i]) for row in rows], type=pa.string())
                    for i, name in enumerate(names)
                }
            )
            conn.register("incoming_mart", incoming)
            _copy_mart(conn, mart, "incoming_mart", [], types.get(mart, {}))
            conn.unregister("incoming_mart")
        conn.execute("commit")
    cursor.close()
    build_dashboard_sql_marts(serving, project, dbt_vars=dbt_vars)


# ---------------------------------------------------------------- the child process (one JVM)


def _profile_session_parameters(project: Path) -> dict[str, str]:
    """The `spark` target's `server_side_parameters` as dbt renders them (one source of truth:
    the session started here is the one dbt-spark then takes with getOrCreate)."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_from_args(argparse.Namespace(), None)
    set_invocation_context(settings.environment())
    raw = read_profile(str(project))
    profile = Profile.from_raw_profiles(
        raw, "seatshift", ProfileRenderer({}), target_override=SPARK_TARGET
    )
    return {key: str(value) for key, value in profile.credentials.server_side_parameters.items()}


def _run_child(args: argparse.Namespace) -> int:
    from dbt.cli.main import dbtRunner
    from pyspark.sql import SparkSession

    project = Path(args.project_dir)
    work = spark_dir()
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in _profile_session_parameters(project).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for statement in registration_statements(args.lake, work / "empty"):
        spark.sql(statement)

    dbt_args = [
        "build", "--target", SPARK_TARGET, "--project-dir", str(project),
        "--profiles-dir", str(project), "--target-path", str(project / TARGET_PATH),
    ]  # fmt: skip
    if args.vars.strip():
        dbt_args += ["--vars", args.vars]
    if args.full_refresh:
        dbt_args.append("--full-refresh")
    dbt_args += args.dbt_arg or []
    result = dbtRunner().invoke(dbt_args)
    results = {}
    if result.result is not None and hasattr(result.result, "results"):
        results = {
            node.node.unique_id: str(getattr(node.status, "value", node.status))
            for node in result.result.results
        }
    marts = []
    if spark.catalog.databaseExists(MARTS_SCHEMA):
        marts = sorted(
            row.tableName
            for row in spark.sql(f"show tables in {MARTS_SCHEMA}").collect()
            if not row.isTemporary
        )
    if result.success or args.keep_marts:
        for mart in marts:
            spark.table(f"{MARTS_SCHEMA}.{mart}").coalesce(1).write.mode("overwrite").parquet(
                str(Path(args.out) / mart)
            )
    Path(args.report).write_text(json.dumps({"results": results, "marts": marts}))
    spark.stop()
    return 0 if result.success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True)
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--vars", default="")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--dbt-arg", action="append")
    # Write the marts Spark built even when the build failed (to compare them while debugging).
    parser.add_argument("--keep-marts", action="store_true")
    return _run_child(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
