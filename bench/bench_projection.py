"""Benchmark: the revenue projection and the migration plan, rebuilt on a published warehouse.

Copies the warehouse, rebuilds every model from int_projection_origins down (the projection's
origins, bases, rates, grown quantities, the rating of every projected month under every model,
the marts, the plan and its impact) with `dbt run`, and reads each model's execution time from
dbt's run_results.json: their sum is the projection's share of a refresh. The issue's bar: 10k
accounts x 6 models x 3 scenarios x 25 months is cheap SQL.

    .venv/bin/python -m bench.bench_projection --warehouse PATH

Writes its lines to bench/results/projection.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "projection.txt"
DBT = Path(sys.executable).with_name("dbt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="a published warehouse to copy")
    arguments = parser.parse_args()
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "bench.duckdb"
        shutil.copyfile(arguments.warehouse, copy)
        completed = subprocess.run(
            [str(DBT), "run", "--target", "prod",
             "--select", "int_projection_origins+", "fct_migration_plan+",
             "--project-dir", str(REPO_ROOT / "dbt_project"),
             "--profiles-dir", str(REPO_ROOT / "dbt_project"),
             "--target-path", str(Path(folder) / "target"),
             "--log-path", str(Path(folder) / "logs")],
            capture_output=True, text=True, check=False,
            env={**os.environ, "SEATSHIFT_DBT_DATABASE": str(copy)},
        )  # fmt: skip
        if completed.returncode != 0:
            sys.exit(completed.stdout[-3000:])
        results = json.loads((Path(folder) / "target" / "run_results.json").read_text())
        timings = {
            result["unique_id"].rsplit(".", 1)[-1]: result["execution_time"]
            for result in results["results"]
        }
        with duckdb.connect(str(copy), read_only=True) as connection:
            accounts, models, rows, plan_rows = connection.execute(
                """
                select
                    (select count(distinct account_id) from intermediate.int_projection_bases
                     where origin_kind = 'projection'),
                    (select count(*) from marts.dim_price_models),
                    (select count(*) from marts.fct_revenue_projection),
                    (select count(*) from marts.fct_migration_plan)
                """
            ).fetchone()
    machine = f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"
    lines = [
        f"projection and plan rebuild: {sum(timings.values()):.1f} s in {len(timings)} models "
        f"({accounts:,} base accounts x {models} models x 3 scenarios x 25 months: {rows:,} "
        f"projection rows, {plan_rows:,} plan rows; {machine})",
        *(f"  {name}: {seconds:.2f} s" for name, seconds in sorted(timings.items())),
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
