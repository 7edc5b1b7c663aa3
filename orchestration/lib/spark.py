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
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
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
DEFAULT_DRIVER_MEMORY = "4g"

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


# Exports whose parts are split by the month of a timestamp column (the lake's layout).
PARTITIONED_BY_MONTH = {"usage_events": "occurred_at"}


def lake_from_warehouse(warehouse: str | Path, lake: str | Path) -> dict[str, int]:
    """Write the raw tables of a DuckDB warehouse (the raw layer kept inside the file) as a lake:
    `<lake>/<schema>/<table>/part-0.parquet`, the usage events as `month=YYYY-MM/part-0.parquet`.
    An export without rows gets no part. Returns the rows written per relation."""
    lake = Path(lake)
    written = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for export in EXPORTS.values():
            folder = lake / export.schema / export.table
            folder.mkdir(parents=True, exist_ok=True)
            (rows,) = conn.execute(f"select count(*) from {export.relation}").fetchone()
            written[export.relation] = rows
            if not rows:
                continue
            by_month = PARTITIONED_BY_MONTH.get(export.name)
            if by_month is None:
                target = (folder / "part-0.parquet").as_posix()
                conn.execute(f"copy {export.relation} to '{target}' (format parquet)")
                continue
            months = conn.execute(
                f"select distinct strftime({by_month}, '%Y-%m') from {export.relation} order by 1"
            ).fetchall()
            for (month,) in months:
                part = folder / f"month={month}"
                part.mkdir(exist_ok=True)
                conn.execute(
                    f"copy (select * from {export.relation} "
                    f"where strftime({by_month}, '%Y-%m') = '{month}') "
                    f"to '{(part / 'part-0.parquet').as_posix()}' (format parquet)"
                )
    return written


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
    chosen = override or os.environ.get("SEATSHIFT_SPARK_DIR") or settings.REPO_ROOT / "data/spark"
    return Path(chosen).resolve()


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
    environment = dict(os.environ)
    environment["SEATSHIFT_SPARK_DIR"] = str(work)
    environment.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the host's name
    if driver_memory:
        environment["SEATSHIFT_SPARK_DRIVER_MEMORY"] = driver_memory
    environment.setdefault("SEATSHIFT_SPARK_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY)
    # pyspark starts its JVM with the driver's memory from spark-submit's arguments.
    environment["PYSPARK_SUBMIT_ARGS"] = (
        f"--driver-memory {environment['SEATSHIFT_SPARK_DRIVER_MEMORY']} pyspark-shell"
    )
    environment["PYTHONUNBUFFERED"] = "1"
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
    for arg in extra_dbt_args:
        command += ["--dbt-arg", arg]
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
    parquet_root: Path, serving: Path, project: Path, marts: list[str], *, dbt_vars: str = ""
) -> None:
    """Copy each mart Spark wrote (`<parquet_root>/<mart>/*.parquet`) into `serving`'s schema
    `marts`, cast to its contract's types, then build the dashboard's SQL marts with dbt-duckdb."""
    types = contract_types(project)
    serving.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(serving)) as conn:
        conn.execute("begin")
        conn.execute(f"create schema if not exists {MARTS_SCHEMA}")
        for mart in marts:
            if mart in DASHBOARD_SQL_MARTS:
                continue
            files = (parquet_root / mart).as_posix() + "/*.parquet"
            present = [
                name
                for (name,) in conn.execute(
                    "select column_name from (describe select * from read_parquet(?))", [files]
                ).fetchall()
            ]
            declared = types.get(mart, {})
            columns = ", ".join(
                f'cast("{name}" as {declared[name]}) as "{name}"'
                if declared.get(name)
                else f'"{name}"'
                for name in present
            )
            conn.execute(
                f'create or replace table {MARTS_SCHEMA}."{mart}" as '
                f"select {columns} from read_parquet(?)",
                [files],
            )
        conn.execute("commit")
    build_dashboard_sql_marts(serving, project, dbt_vars=dbt_vars)


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


# ---------------------------------------------------------------- the child process (one JVM)


def _profile_session_parameters(project: Path) -> dict[str, str]:
    """The `spark` target's `server_side_parameters` as dbt renders them (one source of truth:
    the session started here is the one dbt-spark then takes with getOrCreate)."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_from_args(argparse.Namespace(), None)
    set_invocation_context(os.environ)
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
