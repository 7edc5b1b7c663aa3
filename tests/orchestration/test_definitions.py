"""Dagster wiring: one loadable Definitions object, lineage from file to mart, the sensor's rule."""

from __future__ import annotations

import json
import os
import shutil

import dagster as dg
import duckdb
import pytest
import yaml

from orchestration.lib import settings
from orchestration.lib.contract import EXPORTS
from tests.conftest import SEEDS_DIR


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def test_definitions_load_with_the_refresh_job_its_schedule_and_sensor(defs):
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("refresh_warehouse") is not None
    schedule = defs.resolve_schedule_def("refresh_warehouse_schedule")
    assert schedule.cron_schedule == settings.REFRESH_SCHEDULE_CRON
    assert schedule.job_name == "refresh_warehouse"
    assert defs.resolve_sensor_def("landing_folder_sensor").job_name == "refresh_warehouse"


def test_dbt_sources_connect_to_the_load_assets_without_a_translator(defs):
    graph = defs.resolve_asset_graph()
    for export in EXPORTS.values():
        raw_key = dg.AssetKey([export.schema, export.table])
        assert graph.has(raw_key)
        downstream = graph.get(raw_key).child_keys
        assert any(key.path[-1].startswith("stg_") for key in downstream), (raw_key, downstream)
    inventory = graph.get(dg.AssetKey(["landing", "inventory"]))  # rejects unrecognised files
    assert inventory.is_materializable
    assert dg.AssetKey(["crm", "accounts"]) in inventory.child_keys
    publish = graph.get(dg.AssetKey(["audit", "refresh_log"]))
    assert dg.AssetKey(["marts", "fct_account_month"]) in publish.parent_keys


def test_every_export_has_a_blocking_expectations_check(defs):
    checks = {
        key: spec
        for check in defs.asset_checks
        for key, spec in zip(check.check_keys, check.check_specs, strict=True)
    }
    for export in EXPORTS.values():
        key = dg.AssetCheckKey(dg.AssetKey([export.schema, export.table]), "matches_expectations")
        assert key in checks
        assert checks[key].blocking


def test_sensor_requests_a_refresh_only_when_files_land(tmp_path, monkeypatch):
    from orchestration.defs.schedules import landing_folder_sensor

    monkeypatch.setenv("SEATSHIFT_LANDING", str(tmp_path))
    empty = landing_folder_sensor(dg.build_sensor_context(cursor=None))
    assert isinstance(empty, dg.SkipReason)

    (tmp_path / "accounts__a.csv").write_text("account_id\n")
    (tmp_path / "_manifest.json").write_text("{}")  # not an export: no refresh for it
    context = dg.build_sensor_context(cursor=None)
    first = landing_folder_sensor(context)
    assert isinstance(first, dg.RunRequest)
    assert "accounts__a.csv" in first.tags["seatshift/new_files"]
    assert "_manifest.json" not in first.tags["seatshift/new_files"]

    again = landing_folder_sensor(dg.build_sensor_context(cursor=context.cursor))
    assert isinstance(again, dg.SkipReason)

    (tmp_path / "invoices__b.csv").write_text("invoice_id\n")
    later = landing_folder_sensor(dg.build_sensor_context(cursor=context.cursor))
    assert isinstance(later, dg.RunRequest)
    assert later.tags["seatshift/new_files"] == "invoices__b.csv"


def test_the_refresh_job_materializes_every_asset_and_runs_every_expectation_check(
    defs, sample_dagster_run
):
    # The sample refresh (`seatshift refresh`, the job the schedule and the sensor run: every
    # asset) as its Dagster run recorded it in the suite's instance.
    job_assets = {
        "/".join(key.path)
        for key in defs.resolve_job_def("refresh_warehouse").asset_layer.executable_asset_keys
    }
    materialized = set(sample_dagster_run["materialized"])
    assert materialized == job_assets
    assert {"audit/refresh_log", "marts/fct_account_month"} <= materialized
    expectation_checks = [
        check for check in sample_dagster_run["checks"] if check[1] == "matches_expectations"
    ]
    assert sorted(check[0] for check in expectation_checks) == sorted(
        f"{export.schema}/{export.table}" for export in EXPORTS.values()
    )
    assert all(passed or severity == "WARN" for _, _, passed, severity in expectation_checks)


def test_each_stage_logs_its_row_counts_to_dagster(sample_dagster_run, sample_warehouse):
    """An operator reading the run in the Dagster UI sees what each step did, in rows: every
    file's counts as the load report has them, the table's total, each check's outcome."""
    messages = {}
    for step_key, message in sample_dagster_run["messages"]:
        messages.setdefault(step_key, []).append(message)
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        report = conn.execute(
            """
            select file_name, rows_read, rows_loaded, rows_duplicate, rows_quarantined
            from audit.load_report where export = 'usage_events' order by file_name
            """
        ).fetchall()
        (total,) = conn.execute("select count(*) from telemetry.usage_events").fetchone()
    loads = messages["telemetry__usage_events"]
    for file_name, read, loaded, duplicate, quarantined in report:
        assert (
            f"{file_name}: loaded, {read:,} rows read, {loaded:,} loaded, "
            f"{duplicate:,} duplicate, {quarantined:,} quarantined"
        ) in "\n".join(loads), file_name
    assert f"telemetry.usage_events holds {total:,} rows" in loads
    (check,) = [
        message
        for message in messages["telemetry__usage_events_matches_expectations"]
        if "expectations on this refresh's rows" in message
    ]
    assert check.startswith("telemetry.usage_events: ") and "0 critical" in check


def test_a_failed_critical_expectation_stops_the_refresh_before_publish(
    defs, tmp_path, monkeypatch
):
    import great_expectations.expectations as gxe

    from orchestration.defs.resources import WarehouseResource, dbt_resource
    from orchestration.lib import expectations
    from orchestration.lib.warehouse import read_refresh_status

    # A stricter suite, not a fake GX: real GX finds that the sample's plans break it (every seat
    # price is below 1,000,000), and the real blocking check must stop dbt and publish.
    contract_suite = expectations.suite

    def stricter_suite(export: str):
        rules = contract_suite(export)
        if export == "plans":
            impossible = gxe.ExpectColumnValuesToBeBetween(
                column="seat_unit_amount",
                min_value=1_000_000,
                meta={"rule": "seat_unit_amount >= 1000000", "column_name": "seat_unit_amount"},
            )
            rules = [*rules, (impossible, True)]
        return rules

    # validate_export looks the suite up in its module, where the patch must go.
    monkeypatch.setattr(expectations.suites, "suite", stricter_suite)
    landing = tmp_path / "landing"
    shutil.copytree(SEEDS_DIR, landing)
    warehouse = tmp_path / "seatshift.duckdb"
    previous = os.environ.get("SEATSHIFT_DBT_DATABASE")
    try:
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],
            resources={
                "warehouse": WarehouseResource(warehouse=str(warehouse), landing=str(landing)),
                "dbt": dbt_resource(),
            },
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    finally:
        if previous is None:
            os.environ.pop("SEATSHIFT_DBT_DATABASE", None)
        else:
            os.environ["SEATSHIFT_DBT_DATABASE"] = previous
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert dg.AssetKey(["billing", "plans"]) in materialized
    assert dg.AssetKey(["marts", "fct_account_month"]) not in materialized
    assert dg.AssetKey(["audit", "refresh_log"]) not in materialized
    assert not warehouse.exists()
    status = read_refresh_status(warehouse)
    assert status["status"] == "failed"
    assert "seat_unit_amount" in status["reason"]


def test_dbt_models_are_grouped_by_layer_and_area(defs):
    graph = defs.resolve_asset_graph()

    def group(*path: str) -> str:
        return graph.get(dg.AssetKey(list(path))).group_name

    assert group("marts", "fct_account_month") == "marts_core"
    assert group("marts", "fct_seat_ledger") == "marts_billing"
    assert group("staging", "stg_crm__accounts") == "staging_crm"
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert "default" not in groups, groups


def test_launchpad_config_becomes_dbt_build_arguments():
    from orchestration.defs.transform import DbtBuildConfig, dbt_build_args

    assert dbt_build_args(DbtBuildConfig(), "") == ["build"]
    assert dbt_build_args(DbtBuildConfig(full_refresh=True), "") == ["build", "--full-refresh"]
    # Months given as YYYY-MM (or any day of the month) reach the rollup as month starts, merged
    # with the vars of `seatshift refresh --vars`.
    args = dbt_build_args(
        DbtBuildConfig(rebuild_months=["2026-02", "2026-01-17", "2026-02"]),
        "{proration_rule: day}",
    )
    assert args[:2] == ["build", "--vars"]
    assert args[3:] == ["--exclude", "test_type:unit"]  # they run afterwards, without the vars
    assert json.loads(args[2]) == {
        "proration_rule": "day",
        "usage_rollup_rebuild_months": ["2026-01-01", "2026-02-01"],
    }
    with pytest.raises(ValueError, match="2026-13"):
        dbt_build_args(DbtBuildConfig(rebuild_months=["2026-13"]), "")
    # Unit tests that passed for this very code are left out of the build.
    assert dbt_build_args(DbtBuildConfig(), "", unit_tests_due=False) == [
        "build",
        "--exclude",
        "test_type:unit",
    ]


def test_unit_tests_are_due_again_whenever_a_project_file_changes(tmp_path):
    from dagster_dbt import DbtProject

    from orchestration.lib import dbt_project

    copy = tmp_path / "dbt_project"
    shutil.copytree(
        dbt_project.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs")
    )
    project = DbtProject(project_dir=copy, profiles_dir=copy)
    fingerprint = dbt_project.code_fingerprint(project)
    assert not dbt_project.unit_tests_passed_for(fingerprint, project)
    dbt_project.record_unit_tests_passed(fingerprint, project)
    assert dbt_project.unit_tests_passed_for(fingerprint, project)
    assert dbt_project.code_fingerprint(project) == fingerprint  # nothing changed: not due
    model = copy / "models" / "marts" / "core" / "dim_accounts.sql"
    model.write_text(model.read_text() + "\n-- an edit\n")
    assert dbt_project.code_fingerprint(project) != fingerprint
    assert not dbt_project.unit_tests_passed_for(dbt_project.code_fingerprint(project), project)


def test_the_refresh_job_is_tagged_for_the_run_queue_of_its_warehouse(defs):
    job = defs.resolve_job_def("refresh_warehouse")
    assert job.tags[settings.WAREHOUSE_RUN_TAG] == str(settings.warehouse_path())
    instance_yaml = yaml.safe_load(settings.DAGSTER_INSTANCE_YAML.read_text())
    assert instance_yaml["telemetry"] == {"enabled": False}
    (limit,) = instance_yaml["concurrency"]["runs"]["tag_concurrency_limits"]
    assert limit == {
        "key": settings.WAREHOUSE_RUN_TAG,
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    }


def test_the_command_names_a_failed_blocking_check_and_its_reason(tmp_path):
    """`seatshift refresh`'s one line for a failed blocking check is the check and its own words
    (it raised AttributeError reading the evaluation, and named only the step's generic error)."""
    from orchestration.cli.refresh import _failure_reason

    @dg.asset(key=["billing", "plans"])
    def plans() -> int:
        return 1

    @dg.asset_check(asset=plans, name="matches_expectations", blocking=True)
    def plans_check() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description="2 rows break plan_id is unique",
        )

    @dg.asset(deps=[plans])
    def downstream() -> int:
        return 2

    result = dg.materialize([plans, plans_check, downstream], raise_on_error=False)

    assert not result.success
    assert _failure_reason(result, tmp_path / "seatshift.duckdb") == (
        "check billing/plans:matches_expectations failed: 2 rows break plan_id is unique"
    )
