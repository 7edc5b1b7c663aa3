"""Transform: `dbt build` of the project into the run's build file (models and their tests)."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.dbt_project import DBT_PROJECT, ensure_manifest

ensure_manifest()


def _first_errors(invocation, limit: int = 3) -> str:
    try:
        run_results = invocation.get_artifact("run_results.json")
    except Exception:  # compilation errors leave no run_results; the log has the reason
        return "dbt could not compile the project; see the dbt log in the run's output"
    failed = [
        f"{result['unique_id'].split('.', 2)[-1]}: {(result.get('message') or '').strip()}"
        for result in run_results.get("results", [])
        if result.get("status") in ("error", "fail", "runtime error")
    ]
    return "; ".join(failed[:limit]) or "dbt build failed"


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    # dbt's profile reads the database path from the environment: point it at this run's build.
    os.environ["SEATSHIFT_DBT_DATABASE"] = str(warehouse.build_path)
    args = ["build"]
    if warehouse.dbt_vars:
        args += ["--vars", warehouse.dbt_vars, "--exclude", "test_type:unit"]
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        reason = "dbt build failed: " + _first_errors(invocation)
        warehouse.note_failure(reason)
        raise dg.Failure(description=reason)
    if warehouse.dbt_vars:
        # The analyst's settings drive the models and their data tests; the unit tests were worked
        # out by hand with dbt_project.yml's settings, so they run on their own, without --vars
        # (with them, a moved threshold would fail a correct unit test and so the refresh), once
        # the build has made the relations whose columns they read.
        unit_tests = dbt.cli(
            ["test", "--select", "test_type:unit"],
            manifest=DBT_PROJECT.manifest_path,
            raise_on_error=False,
        ).wait()
        if not unit_tests.is_successful():
            reason = "dbt unit tests failed: " + _first_errors(unit_tests)
            warehouse.note_failure(reason)
            raise dg.Failure(description=reason)
