"""When a refresh runs: daily on a schedule, and when new files land."""

import hashlib
import json

import dagster as dg

from orchestration.lib import loader, settings

refresh_warehouse = dg.define_asset_job(
    name="refresh_warehouse",
    selection=dg.AssetSelection.all(),
    description=(
        "Load new exports, validate them, dbt build, audit, publish. Launchpad config "
        "(ops.dbt_models.config): full_refresh rebuilds every incremental model from all loaded "
        "rows; rebuild_months re-aggregates chosen months of the usage rollup."
    ),
    executor_def=dg.in_process_executor,  # DuckDB allows one writer process at a time
    # The instance's run queue (orchestration/dagster.yaml) runs one refresh per warehouse.
    tags={settings.WAREHOUSE_RUN_TAG: str(settings.warehouse_path())},
)

refresh_warehouse_schedule = dg.ScheduleDefinition(
    name="refresh_warehouse_schedule",
    job=refresh_warehouse,
    cron_schedule=settings.REFRESH_SCHEDULE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.sensor(
    job=refresh_warehouse,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts a refresh when a file lands or changes in the landing folder (or in the Stripe "
        "export folder, SEATSHIFT_STRIPE_EXPORT, when one is set)."
    ),
)
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    seen = json.loads(context.cursor) if context.cursor else {}
    # The loader's own reading of the landing folder: the sensor wakes for what a refresh loads.
    listing = loader.landing_listing(settings.landing_dir())
    stripe_export = settings.stripe_export_dir()
    if stripe_export is not None and stripe_export.is_dir():
        listing |= {
            f"stripe/{path.name}": [path.stat().st_size, path.stat().st_mtime_ns]
            for path in sorted(stripe_export.glob("*.jsonl"))
        }
    new = sorted(name for name, stamp in listing.items() if seen.get(name) != stamp)
    if not new:
        return dg.SkipReason("no new or changed files in the landing folder")
    context.update_cursor(json.dumps(listing))
    return dg.RunRequest(
        run_key="landing-"
        + hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:16],
        tags={"seatshift/new_files": ", ".join(new)[:1000]},
    )
