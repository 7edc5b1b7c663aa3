"""The one Definitions object: load -> validate -> dbt build -> publish; job, schedule, sensor."""

import dagster as dg

import orchestration.defs

defs = dg.Definitions.merge(
    dg.components.load_defs(orchestration.defs),
    dg.Definitions(executor=dg.in_process_executor),  # DuckDB allows one writer process at a time
)
