"""On a generated 1,000-account company, a daily refresh builds incrementally and gives the models
of a full rebuild.

The sample's test (test_incremental.py) holds the increment to the full rebuild bit for bit on a
hand-made company. Here the same day (bench/stages.add_one_day: a day of usage events, some 10
days late, and a seat `correction` voiding an event loaded long ago) lands on the 1,000-account
company of `make test-scale`, where hundreds of accounts' months are restated at once. Every mart
and intermediate model is compared row for row with a `--full-refresh` of the same files: exact
for every column but doubles, which agree to a relative 1e-9 (an average of doubles over a
parallel join, such as the pilot readout's gross margin, may differ in its last bit from one build
to the next, whatever the build).
"""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from bench.stages import add_one_day
from orchestration.lib import settings
from orchestration.lib.lake import copy_warehouse
from tests.conftest import run_refresh
from tests.warehouse.spark_compare import compare_marts

pytestmark = pytest.mark.scale


def _last_day_and_events(warehouse) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        last_moment, events = conn.execute(
            "select max(occurred_at), count(*) from telemetry.usage_events"
        ).fetchone()
    return last_moment.date(), events


def test_on_a_thousand_account_company_a_new_day_builds_incrementally_as_a_full_rebuild(
    thousand_account_warehouse, tmp_path
):
    daily = tmp_path / "daily" / "seatshift.duckdb"
    copy_warehouse(thousand_account_warehouse, daily)
    # The generated exports, linked (a refresh only reads them); the new day's files are new.
    landing = shutil.copytree(
        thousand_account_warehouse.parent / "landing", tmp_path / "landing", copy_function=os.link
    )
    last_day, events = _last_day_and_events(daily)
    day = add_one_day(landing, last_day, events=events, fmt="csv")
    assert day.correction_of is not None and day.late_events >= 5, day

    increment = run_refresh(landing, daily, timeout=1800)
    assert increment.returncode == 0, increment.stdout[-4000:] + increment.stderr[-4000:]
    log = settings.refresh_log_path(daily).read_text()
    # The usage rollups ran as increments (the months the new rows touch), not as rebuilds.
    for rollup in ("account_month", "actor_month"):
        assert f"incremental model intermediate.int_usage_events_rolled_up_to_{rollup}" in log
    with duckdb.connect(str(daily), read_only=True) as conn:
        (voided,) = conn.execute(
            "select is_voided from marts.fct_seat_ledger where event_id = ?", [day.correction_of]
        ).fetchone()
    assert voided is True

    rebuilt = tmp_path / "rebuilt" / "seatshift.duckdb"
    copy_warehouse(daily, rebuilt)
    full = run_refresh(landing, rebuilt, "--full-refresh", timeout=1800)
    assert full.returncode == 0, full.stdout[-4000:] + full.stderr[-4000:]
    with duckdb.connect(str(rebuilt), read_only=True) as conn:
        (last_build,) = conn.execute(
            "select dbt_args from audit.dbt_builds order by built_at desc limit 1"
        ).fetchone()
    assert "--full-refresh" in last_build

    for schema in ("marts", "intermediate"):
        assert compare_marts(rebuilt, daily, schema=schema) == {}, schema
