"""Validate: the Great Expectations suite of each export, as a blocking asset check.

A failed critical expectation fails the check, which stops the dbt assets downstream of that
export, so the refresh ends before publish and the dashboard keeps the last good build.
"""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib import expectations, settings
from orchestration.lib.contract import EXPORTS, Export


def build_expectations_check(export: Export) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([export.schema, export.table]),
        name="matches_expectations",
        blocking=True,
        description=(
            f"The rows this refresh loaded into {export.relation} meet the export's expectation "
            "suite (GX, run as SQL inside DuckDB). Critical expectations block the refresh."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        warehouse.pause_for_fault_injection("checks")
        outcome = expectations.validate_export(
            warehouse.build_path,
            export.name,
            refresh_id=warehouse.refresh_id,
            # Written with the build, published with it: a failed refresh leaves the site as is.
            docs_dir=warehouse.staged_data_docs,
            published_docs_dir=settings.data_docs_dir(warehouse.published_path),
        )
        with warehouse.connect() as conn:
            expectations.record_outcome(conn, outcome)
        failed = [result for result in outcome.results if not result["success"]]
        context.log.info(
            f"{export.relation}: {len(outcome.results)} expectations on this refresh's rows, "
            f"{len(failed)} failed ({len(outcome.critical_failures)} critical)"
            + ("; " + "; ".join(outcome.critical_failures) if outcome.critical_failures else "")
        )
        if not outcome.success:
            warehouse.note_failure("expectations failed: " + "; ".join(outcome.critical_failures))
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR
            if not outcome.success
            else dg.AssetCheckSeverity.WARN,
            description="; ".join(outcome.critical_failures) or None,
            metadata={
                "expectations": len(outcome.results),
                "failed": len(failed),
                "critical_failed": len(outcome.critical_failures),
            },
        )

    return _check


@dg.definitions
def quality_definitions() -> dg.Definitions:
    return dg.Definitions(asset_checks=[build_expectations_check(e) for e in EXPORTS.values()])
