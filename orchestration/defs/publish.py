"""Publish: record the refresh and swap the audited build in as the published warehouse.

It runs only when every upstream asset materialized: the loads, their blocking expectation checks
and `dbt build` with its tests. Anything that failed before leaves the published file untouched.
"""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.transform import dbt_models
from orchestration.lib.contract.audit import AUDIT_DDL
from orchestration.lib.warehouse import as_naive_utc, interrupted_refreshes

REQUIRED_MARTS = ("fct_account_month", "rpt_data_as_of", "dim_accounts")


@dg.asset(
    key=["audit", "refresh_log"],
    deps=[dbt_models],
    group_name="publish",
    kinds={"duckdb"},
    description=(
        "One row per published refresh. Materializing it publishes the audited build: an atomic "
        "rename onto the warehouse path that the dashboard reads."
    ),
)
def publish_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    warehouse.pause_for_fault_injection("publish")
    with warehouse.connect() as conn:
        present = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        missing = [mart for mart in REQUIRED_MARTS if mart not in present]
        if missing:
            reason = "the build lacks marts " + ", ".join(missing)
            warehouse.note_failure(reason)
            raise dg.Failure(description=reason)
        (data_as_of,) = conn.execute("select max(data_as_of) from marts.rpt_data_as_of").fetchone()
        files_loaded, rows_loaded, rows_quarantined = conn.execute(
            """
            select
                count(*) filter (where status = 'loaded'),
                coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_quarantined), 0)
            from audit.load_report
            where refresh_id = ?
            """,
            [warehouse.refresh_id],
        ).fetchone()
        for statement in AUDIT_DDL:  # the audit schema's one definition
            conn.execute(statement)
        conn.execute(
            """
            insert into audit.refresh_log
            values (?, ?, current_timestamp::timestamp, 'published', ?, ?, ?, ?, null)
            """,
            [
                warehouse.refresh_id,
                warehouse.started_at,
                data_as_of,
                files_loaded,
                rows_loaded,
                rows_quarantined,
            ],
        )
        # Interrupted attempts (recorded beside the warehouse: their builds never published)
        # join the history that Data health shows, once each.
        for attempt in interrupted_refreshes(warehouse.published_path):
            conn.execute(
                """
                insert into audit.refresh_log
                select ?, ?, ?, 'interrupted', null, 0, 0, 0, ?
                where not exists (
                    select 1 from audit.refresh_log
                    where refresh_id = ? and status = 'interrupted'
                )
                """,
                [
                    attempt["refresh_id"],
                    as_naive_utc(attempt["started_at"]) or as_naive_utc(attempt["detected_at"]),
                    as_naive_utc(attempt["detected_at"]),
                    attempt["reason"],
                    attempt["refresh_id"],
                ],
            )
    warehouse.publish()
    context.log.info(
        f"published {warehouse.published_path}: data as of {data_as_of}; this refresh loaded "
        f"{files_loaded} file(s), {rows_loaded:,} rows, and quarantined {rows_quarantined:,}"
    )
    return dg.MaterializeResult(
        metadata={
            "refresh_id": warehouse.refresh_id,
            "published": str(warehouse.published_path),
            "data_as_of": str(data_as_of),
            "files_loaded": files_loaded,
            "rows_loaded": rows_loaded,
            "rows_quarantined": rows_quarantined,
        }
    )
