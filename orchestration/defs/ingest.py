"""Load: every new landing file into the raw tables of the run's build, with quarantine and report.

One asset per export, keyed by its raw relation (`["billing", "invoice_lines"]`), which is also the
key of the dbt source, so lineage runs from file to mart without a translator. An export's asset
depends on the exports its rules look up (subscriptions need accounts and plans), so the graph
itself fixes the load order.
"""

import dataclasses

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib import loader, settings
from orchestration.lib.contract import EXPORTS, SEAT_SIGN_TABLE, Export
from orchestration.lib.importers import stripe
from orchestration.lib.loader.files import write_seat_signs

LANDING_INVENTORY_KEY = dg.AssetKey(["landing", "inventory"])
STRIPE_IMPORT_KEY = dg.AssetKey(["landing", "stripe_import"])


@dg.asset(
    key=STRIPE_IMPORT_KEY,
    group_name="raw",
    kinds={"stripe"},
    description=(
        "A Stripe account's objects (SEATSHIFT_STRIPE_EXPORT: JSON lines, as the API returns "
        "them) written into the landing folder as the contract's exports, before the load; every "
        "object that does not map is in the import report. Without the setting: nothing to do."
    ),
)
def stripe_import(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    source = settings.stripe_export_dir()
    if source is None:
        return dg.MaterializeResult(metadata={"imported": False})
    result = stripe.import_stripe(source, warehouse.landing_path, settings.stripe_segment_key())
    for finding in result.findings:
        context.log.info(
            f"{finding.kind}: {finding.object_type} {finding.object_id}: {finding.reason}"
        )
    return dg.MaterializeResult(
        metadata={
            "imported": True,
            "stripe_export": str(source),
            "objects_read": result.read,
            "rows_written": result.written,
            "objects_not_imported": len(result.skipped),
            "warnings": len(result.findings) - len(result.skipped),
        }
    )


@dg.asset(
    key=LANDING_INVENTORY_KEY,
    deps=[STRIPE_IMPORT_KEY],
    group_name="raw",
    kinds={"duckdb"},
    description=(
        "The landing folder's files matched to exports. A file that matches no export (name or "
        "extension) is rejected into audit.load_report with the reason: nothing is dropped."
    ),
)
def landing_inventory(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    warehouse.pause_for_fault_injection("load")
    files = loader.landing_files(warehouse.landing_path)
    if not files and not warehouse.published_path.exists():
        # a first refresh with nothing to load would publish an empty warehouse, and a mistyped
        # folder would read as a vendor without data: refuse it (a later refresh with no new file
        # rebuilds what was loaded before)
        where = warehouse.landing_path
        found = "does not exist" if not where.is_dir() else "holds no export file"
        raise dg.Failure(
            description=(
                f"The landing folder {where} {found}: a first refresh has nothing to build. "
                "Put the exports there (docs/exports.md says which; `seatshift check --landing "
                "DIR` dry-runs them) and refresh again."
            )
        )
    with warehouse.connect() as conn:
        rejected = loader.reject_unrecognised(
            conn, files.get(None, []), warehouse.refresh_id, lake=warehouse.lake_path
        )
    counts = {export or "unrecognised": len(paths) for export, paths in files.items()}
    context.log.info(
        f"{sum(counts.values())} file(s) in {warehouse.landing_path}: "
        + ", ".join(f"{export} {count}" for export, count in sorted(counts.items()))
    )
    return dg.MaterializeResult(
        metadata={
            "refresh_id": warehouse.refresh_id,
            "landing_folder": str(warehouse.landing_path),
            "files_by_export": counts,
            "files": [dataclasses.asdict(report) for report in rejected],
            **warehouse.build_copy(),
        }
    )


def build_export_asset(export: Export) -> dg.AssetsDefinition:
    deps = [LANDING_INVENTORY_KEY] + [
        dg.AssetKey([EXPORTS[name].schema, EXPORTS[name].table]) for name in export.depends_on
    ]

    @dg.asset(
        key=[export.schema, export.table],
        deps=deps,
        group_name="raw",
        kinds={"duckdb", "parquet"},
        description=(
            f"Rows of every `{export.name}__*` file in the landing folder, as delivered, typed, "
            "with file name and row number; rule-breaking rows go to audit.quarantine."
        ),
    )
    def _load(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as conn:
            reports = loader.load_export(
                conn,
                warehouse.landing_path,
                export.name,
                warehouse.refresh_id,
                lake=warehouse.lake_path,
            )
            (row_count,) = conn.execute(f"select count(*) from {export.relation}").fetchone()
        for report in reports:
            context.log.info(
                f"{report.file_name}: {report.status}, {report.rows_read:,} rows read, "
                f"{report.rows_loaded:,} loaded, {report.rows_duplicate:,} duplicate, "
                f"{report.rows_quarantined:,} quarantined"
                + (f" ({report.message})" if report.message else "")
            )
        context.log.info(f"{export.relation} holds {row_count:,} rows")
        return dg.MaterializeResult(
            metadata={
                "refresh_id": warehouse.refresh_id,
                "files": [dataclasses.asdict(report) for report in reports],
                "rows_read": sum(report.rows_read for report in reports),
                "rows_loaded": sum(report.rows_loaded for report in reports),
                "rows_duplicate": sum(report.rows_duplicate for report in reports),
                "rows_quarantined": sum(report.rows_quarantined for report in reports),
                "dagster/row_count": row_count,
            }
        )

    return _load


@dg.asset(
    key=SEAT_SIGN_TABLE.split("."),
    deps=[LANDING_INVENTORY_KEY],
    group_name="raw",
    kinds={"duckdb"},
    description=(
        "How each seat event type moves billable seats (+1, -1, 0), written from the export "
        "contract every refresh, so dbt's staging reads the sign as data instead of retyping it."
    ),
)
def seat_event_signs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        rows = write_seat_signs(conn)
    context.log.info(f"{SEAT_SIGN_TABLE}: {rows} event types written from the contract")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


def export_assets() -> list[dg.AssetsDefinition]:
    return [build_export_asset(export) for export in EXPORTS.values()]


@dg.definitions
def ingest_definitions() -> dg.Definitions:
    # A module with @dg.definitions contributes only what it returns: list every asset here.
    return dg.Definitions(
        assets=[stripe_import, landing_inventory, seat_event_signs, *export_assets()]
    )
