"""Transform: `dbt build` of the project into the run's build file (models and their tests)."""

import contextlib
import graphlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import yaml
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from pydantic import Field

from orchestration.defs.resources import WarehouseResource
from orchestration.lib import settings, spark
from orchestration.lib.contract.audit import DBT_BUILDS
from orchestration.lib.dbt_project import (
    DBT_PROJECT,
    build_inputs_key,
    cache_docs_page,
    cached_docs_page,
    code_fingerprint,
    deferral_manifest,
    docs_inputs_key,
    drop_seeds_with_changed_columns,
    ensure_manifest,
    month_starts,
    record_unit_tests_passed,
    unit_tests_passed_for,
)

PARTIAL_PARSE = "partial_parse.msgpack"

# Parses in this process only when the manifest is missing or stale (see lib/dbt_project.py).
ensure_manifest()


class DbtBuildConfig(dg.Config):
    """What an operator may ask of the dbt step from the Launchpad or `seatshift refresh`."""

    full_refresh: bool = Field(
        default=False,
        description=(
            "Rebuild every incremental model (the usage rollup) from all loaded rows "
            "(`dbt build --full-refresh`). Gives the same rows as the incremental build."
        ),
    )
    rebuild_months: list[str] = Field(
        default_factory=list,
        description=(
            "Months of the usage rollup to re-aggregate from their events, as YYYY-MM "
            "(e.g. ['2026-01', '2026-02']); the dbt var usage_rollup_rebuild_months."
        ),
    )
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description=(
            "Where dbt builds: `duckdb` (in the build file) or `spark` (the same project with "
            "dbt-spark over the lake's Parquet parts; the marts are then published into the "
            "build file, which the dashboard reads). Spark needs the `spark` extra and Java."
        ),
    )


def dbt_build_args(
    config: DbtBuildConfig, dbt_vars: str, *, unit_tests_due: bool = True
) -> list[str]:
    """`dbt build`'s arguments. Unit tests are left out when they are not due (they passed for
    this exact project code, see lib/dbt_project.code_fingerprint) or run apart (with vars)."""
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    build_vars = yaml.safe_load(dbt_vars) if dbt_vars.strip() else {}
    if not isinstance(build_vars, dict):
        raise ValueError(f"dbt vars must be a YAML mapping, got {dbt_vars!r}")
    if config.rebuild_months:
        build_vars["usage_rollup_rebuild_months"] = month_starts(config.rebuild_months)
    if build_vars:
        # Unit tests were worked out by hand with dbt_project.yml's settings: with the analyst's
        # vars they run after the build, on their own, without them (see dbt_models).
        args += [
            "--vars",
            json.dumps(build_vars, sort_keys=True, default=str),
            "--exclude",
            "test_type:unit",
        ]
    elif not unit_tests_due:
        args += ["--exclude", "test_type:unit"]
    return args


class LayerAndAreaTranslator(DagsterDbtTranslator):
    """Dagster groups by dbt layer and area (`marts_billing`, `staging_crm`), not `default`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "price_book"
        folders = list(dbt_resource_props.get("fqn", []))[1:-1]  # project name ... model name
        return "_".join(folders[:2]) or "dbt"


def _first_errors(invocation, limit: int = 3, width: int = 240) -> str:
    """The first failures of a dbt invocation on one line (the command prints one line): each
    node's message with its line breaks folded, so the cause after dbt's 'Runtime Error in model
    ...' line, and the failures after the first, are not lost."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except Exception:  # compilation errors leave no run_results; the log has the reason
        return "dbt could not compile the project; see the dbt log in the run's output"
    failed = []
    for result in run_results.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = " ".join((result.get("message") or "").split())
            failed.append(f"{result['unique_id'].split('.', 2)[-1]}: {message}"[:width])
    return "; ".join(failed[:limit]) or "dbt build failed"


def _target_with_parse_state(warehouse: WarehouseResource) -> Path:
    """A fresh dbt target folder for this run, seeded with the parse state of this warehouse's
    last refresh: same profile (warehouse.build_path is stable per warehouse), so dbt parses only
    what changed. (Without it dagster-dbt would seed it from the project's target folder, whose
    state the command's own parse made with another database path: a full parse, about 10 s.)"""
    target = (
        Path(DBT_PROJECT.project_dir) / DBT_PROJECT.target_path / f"refresh-{warehouse.refresh_id}"
    )
    state = settings.dbt_parse_state_path(warehouse.published_path)
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # an optimisation only: never fail a refresh for it
        if state.exists():
            shutil.copyfile(state, target / PARTIAL_PARSE)
    return target


def _keep_parse_state(invocation_target: Path, warehouse: WarehouseResource) -> None:
    """Keep this build's parse state beside the warehouse for its next refresh."""
    state = invocation_target / PARTIAL_PARSE
    destination = settings.dbt_parse_state_path(warehouse.published_path)
    staging = destination.with_name(f".{destination.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # an optimisation only: never fail a refresh for it
        shutil.copyfile(state, staging)
        os.replace(staging, destination)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    # dbt's data tests run inside `dbt build` and gate the publish like any failed model; they are
    # not also modelled as ~290 Dagster asset checks, each of which cost every run a planned and
    # an evaluation event in the instance's storage (about 15 s of a 70 s sample refresh, 40 s of
    # planning alone at 10M events on a loaded machine). Their results are in dbt's log and
    # run_results.json; the GX expectation suites stay Dagster's blocking checks.
    dagster_dbt_translator=LayerAndAreaTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=False)
    ),
)
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
):
    # dbt's profile reads the database path from the environment: point it at this run's build.
    settings.point_dbt_at(warehouse.build_path)
    if config.engine == "spark":
        yield from _build_on_spark(context, config, warehouse)
        return
    fingerprint = code_fingerprint()
    unit_tests_due = config.full_refresh or not unit_tests_passed_for(fingerprint)
    if not unit_tests_due:
        context.log.info(
            "dbt unit tests skipped: they passed for this exact project code and engine "
            f"(fingerprint {fingerprint[:12]}); a changed project or --full-refresh runs them"
        )
    try:
        args = dbt_build_args(config, warehouse.dbt_vars, unit_tests_due=unit_tests_due)
        build_vars = yaml.safe_load(warehouse.dbt_vars) if warehouse.dbt_vars.strip() else {}
    except (ValueError, yaml.YAMLError) as error:
        reason = f"bad refresh config: {error}"
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason) from error
    with warehouse.connect() as conn:
        inputs_key = build_inputs_key(conn, code=fingerprint, build_vars=build_vars)
        last_build = conn.execute(
            f"select refresh_id, inputs_key from {DBT_BUILDS} order by built_at desc limit 1"
        ).fetchone()
    forced = config.full_refresh or bool(config.rebuild_months) or unit_tests_due
    if not forced and last_build is not None and last_build[1] == inputs_key:
        yield from _unchanged(context, last_build[0], inputs_key)
        if not warehouse.has_published_dbt_state:
            # The project's parse describes the same code as the build that stands.
            warehouse.stage_dbt_state(deferral_manifest(Path(DBT_PROJECT.manifest_path)))
        return
    with warehouse.connect() as conn:
        reseeded = drop_seeds_with_changed_columns(
            conn, Path(DBT_PROJECT.manifest_path), Path(DBT_PROJECT.project_dir)
        )
    if reseeded:
        message = "seeds whose columns changed are created again from their CSV: " + ", ".join(
            reseeded
        )
        context.log.info(message)
        print(message, flush=True)  # the refresh's dbt log
    context.log.info(f"dbt {' '.join(args)}")
    target = _target_with_parse_state(warehouse)
    try:
        yield from _build(context, dbt, warehouse, args, target, unit_tests_due=unit_tests_due)
        # What an analyst's selective build in the dev target defers to once this build publishes.
        warehouse.stage_dbt_state(deferral_manifest(target / "manifest.json"))
        with warehouse.connect() as conn:  # dbt has exited: its lock on the build is gone
            docs_key = docs_inputs_key(conn, code=fingerprint, build_vars=build_vars)
        if docs_key == warehouse.published_docs_key and not config.full_refresh:
            message = (
                "dbt docs kept: the project code, vars and every relation's columns are those "
                f"of the published page (key {docs_key[:12]}), so it would be the same page"
            )
            context.log.info(message)
            print(message, flush=True)  # the refresh's dbt log
        elif config.full_refresh or not _reuse_docs(context, warehouse, docs_key):
            _generate_docs(context, dbt, warehouse, args, target, docs_key)
        # Recorded only when every model was built: a run of a few models leaves the others as
        # they were, built from older inputs.
        whole_project = set(context.selected_asset_keys) == set(context.assets_def.keys)
        with warehouse.connect() as conn:  # dbt has exited: its lock on the build is gone
            conn.execute(
                f"insert into {DBT_BUILDS} values (?, ?, ?, current_timestamp::timestamp)",
                [
                    warehouse.refresh_id,
                    inputs_key if whole_project else "partial",
                    json.dumps(args),
                ],
            )
    finally:
        # The run's artifacts served this step only (its log is the refresh's log file, its
        # parse state is kept beside the warehouse): a folder per refresh filled the project's
        # target/ (0.9 GB after a day of test runs).
        shutil.rmtree(target, ignore_errors=True)
    if unit_tests_due:
        record_unit_tests_passed(fingerprint)


def _build_on_spark(
    context: dg.AssetExecutionContext, config: DbtBuildConfig, warehouse: WarehouseResource
):
    """`dbt build` of the whole project on Spark over the lake, then the marts into the build file.

    Spark reads each raw relation's lake folder whole: at this point it holds exactly the parts
    this build lists, since the refresh removed every part no published build lists before it
    loaded, under the refresh lock. Every model is built each time (Spark keeps no state between
    refreshes here); the DuckDB build's dbt docs and deferral state stay as they were.
    """
    if config.rebuild_months:
        reason = "rebuild_months is for the DuckDB engine's incremental rollup; Spark builds all"
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason)
    missing = spark.missing_requirements()
    if missing:
        reason = f"the spark engine needs {missing}"
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason)
    context.log.info(f"dbt build --target spark over {warehouse.lake_path}")
    try:
        build = spark.build_on_spark(
            warehouse.lake_path,
            warehouse.build_path,
            work=settings.warehouse_spark_dir(warehouse.published_path),
            dbt_vars=warehouse.dbt_vars,
            project_dir=settings.dbt_project_dir(),
        )
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        reason = f"dbt build on Spark failed: {error}"
        warehouse.note_failure(reason.splitlines()[0])
        raise dg.Failure(description=reason) from error
    print(build.log[-20000:], flush=True)  # the refresh's dbt log
    if build.returncode != 0:
        failed = [f"{node.split('.', 2)[-1]}: {status}" for node, status in build.failed.items()]
        last_lines = build.log.strip().splitlines()[-1:] or ["no output"]
        reason = "dbt build on Spark failed: " + "; ".join(failed[:3] or last_lines)
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason)
    message = (
        f"dbt build on Spark: {build.passed} node(s) passed in {build.seconds:.0f} s; "
        f"{len(build.marts)} marts published into the build file"
    )
    context.log.info(message)
    print(message, flush=True)
    with warehouse.connect() as conn:
        conn.execute(
            f"insert into {DBT_BUILDS} values (?, ?, ?, current_timestamp::timestamp)",
            [warehouse.refresh_id, "spark", json.dumps(["build", "--target", "spark"])],
        )
    selected = set(context.selected_asset_keys)
    deps = context.assets_def.asset_deps
    order = graphlib.TopologicalSorter({key: deps.get(key, set()) & selected for key in selected})
    for key in order.static_order():
        yield dg.MaterializeResult(asset_key=key, metadata={"dbt": "built on spark"})


def _reuse_docs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, inputs_key: str
) -> bool:
    """Stage the docs page an earlier build of this checkout made from the same code, vars and
    relations (`cached_docs_page`), if there is one: the same page `dbt docs generate` would make
    but for its times. False when there is none or it cannot be copied (then dbt makes it)."""
    page = cached_docs_page(inputs_key) if settings.dbt_docs_pages_reused() else None
    if page is None:
        return False
    try:
        warehouse.stage_docs(page, inputs_key)
    except OSError:  # a page removed meanwhile, a full disk: dbt makes it, or says why not
        return False
    message = (
        "dbt docs reused: an earlier build made its page from the same project code, vars and "
        f"relations (key {inputs_key[:12]})"
    )
    context.log.info(message)
    print(message, flush=True)  # the refresh's dbt log
    return True


def _generate_docs(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    build_args: list[str],
    target: Path,
    inputs_key: str,
) -> None:
    """dbt's docs site of this build, staged beside the build for the publish to move into place.

    `--no-compile`: the build has just written its manifest (every node's compiled SQL, the
    exposures) into this target folder, and `--static` inlines that very file; what `docs
    generate` adds is the catalog of the relations as built (about 12 s on the sample, most of it
    dbt's start; compiling the project again made it about three times that). The build's vars,
    so dbt's parse stays partial. A site that cannot be made does not fail the refresh (the marts
    are sound): it is said in the log and on the command line, and the previous site stays.
    """
    docs_args = ["docs", "generate", "--static", "--no-compile"]
    if "--vars" in build_args:
        docs_args += build_args[build_args.index("--vars") : build_args.index("--vars") + 2]
    began = time.monotonic()
    try:
        invocation = dbt.cli(
            docs_args,
            manifest=DBT_PROJECT.manifest_path,
            raise_on_error=False,
            target_path=target,
        ).wait()
        static_index = target / "static_index.html"
        if not invocation.is_successful() or not static_index.exists():
            raise RuntimeError(f"dbt {' '.join(docs_args)} failed; see dbt's log of this refresh")
        warehouse.stage_docs(static_index, inputs_key)
        cache_docs_page(static_index, inputs_key)
    except Exception as error:
        message = f"dbt docs not generated: {error} (the previous site stays)"
        context.log.warning(message)
        print(message, flush=True)  # the refresh's dbt log
        return
    context.log.info(f"dbt docs generated in {time.monotonic() - began:.1f} s")


def _unchanged(context: dg.AssetExecutionContext, built_by: str, inputs_key: str):
    """No source row, var or project file changed since the published build: `dbt build` would
    remake the same marts (and re-run the same tests on the same rows), so it does not run. Each
    dbt asset is reported with the build's inputs as its data version, which says "unchanged"."""
    message = (
        "dbt build skipped: no source row, dbt var or project file changed since the build of "
        f"refresh {built_by} (inputs {inputs_key[:12]}), so its marts stand; "
        "--full-refresh builds anyway"
    )
    context.log.info(message)
    print(message, flush=True)  # the refresh's dbt log says why it has no build in it
    # Dagster takes a multi-asset's results in dependency order only.
    selected = set(context.selected_asset_keys)
    deps = context.assets_def.asset_deps
    order = graphlib.TopologicalSorter({key: deps.get(key, set()) & selected for key in selected})
    for key in order.static_order():
        yield dg.MaterializeResult(
            asset_key=key,
            data_version=dg.DataVersion(inputs_key[:16]),
            metadata={"dbt": "unchanged", "built_by_refresh": built_by},
        )


def _build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    args: list[str],
    target: Path,
    *,
    unit_tests_due: bool,
):
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    for event in invocation.stream():
        # A data test's result reaches Dagster as an observation of its model: ~400 of the ~750
        # events a sample refresh wrote to the instance's storage, for results dbt's own log
        # and run_results.json already keep. The build's outcome (so the publish) needs none.
        if isinstance(event, dg.AssetObservation):
            continue
        yield event
    if not invocation.is_successful():
        reason = "dbt build failed: " + _first_errors(invocation)
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason)
    if "--vars" not in args:  # vars are part of what dbt parses: keep the plain build's state
        _keep_parse_state(invocation.target_path, warehouse)
    if "--vars" in args and unit_tests_due:
        # The analyst's settings drive the models and their data tests; the unit tests were worked
        # out by hand with dbt_project.yml's settings, so they run on their own, without --vars
        # (with them, a moved threshold would fail a correct unit test and so the refresh), once
        # the build has made the relations whose columns they read.
        unit_tests = dbt.cli(
            ["test", "--select", "test_type:unit"],
            manifest=DBT_PROJECT.manifest_path,
            raise_on_error=False,
            target_path=target / "unit_tests",
        ).wait()
        if not unit_tests.is_successful():
            reason = "dbt unit tests failed: " + _first_errors(unit_tests)
            warehouse.note_failure(reason)
            raise dg.Failure(description=reason)
