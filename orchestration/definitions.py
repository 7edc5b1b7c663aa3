"""The one Definitions object: load -> validate -> dbt build -> publish; job, schedule, sensor."""

from pathlib import Path

import dagster as dg

defs = dg.Definitions.merge(
    # Every module of orchestration/defs/ is loaded ([tool.dg.project] in pyproject.toml).
    dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent),
    dg.Definitions(executor=dg.in_process_executor),  # DuckDB allows one writer process at a time
)
