"""`seatshift refresh --engine spark`, as an operator runs it, and the dashboard on what it built.

The committed sample is loaded and validated as always, into the lake; dbt-spark builds the
project over the lake's parts; the marts are published into the warehouse file (the suite's one
Spark build, fixture `spark_refresh`: tests/warehouse/test_spark.py compares every mart with the
DuckDB engine's build of the same landing folder). Here: the refresh says it built on Spark and
published, and the revenue lead's journey runs in Chromium on the Spark build. Marked `spark`
(the extra and Java; minutes): `make test-spark` runs it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.dashboards.test_journey_browser import (
    test_revenue_lead_walks_journey_one_in_a_real_browser as journey_one,
)
from tests.warehouse.spark_compare import compare_marts

pytestmark = pytest.mark.spark

# When the rows were loaded: the one thing two refreshes of the same landing folder differ in.
LOAD_TIMES = {"rpt_data_as_of": {"last_loaded_at"}}


@pytest.fixture
def sample_warehouse(spark_refresh) -> Path:
    """In this module the dashboard's published warehouse is the Spark build."""
    assert spark_refresh.returncode == 0, spark_refresh.stdout[-4000:] + spark_refresh.stderr
    return spark_refresh.warehouse


def test_a_refresh_on_spark_publishes_the_marts_of_the_duckdb_engine(spark_refresh, sample_refresh):
    run = spark_refresh
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    # every mart, row for row: tests/warehouse/test_spark.py; here those the Overview reads first
    assert (
        compare_marts(
            sample_refresh.warehouse,
            run.warehouse,
            skip_columns=LOAD_TIMES,
            only={"fct_account_month", "fct_revenue_projection", "rpt_data_as_of"},
        )
        == {}
    )
    with duckdb.connect(str(run.warehouse), read_only=True) as conn:
        (built_by,) = conn.execute(
            "select inputs_key from audit.dbt_builds order by built_at desc limit 1"
        ).fetchone()
        (published,) = conn.execute(
            "select count(*) from audit.refresh_log where status = 'published'"
        ).fetchone()
    assert built_by == "spark"
    assert published == 1


@pytest.mark.browser
def test_the_revenue_lead_walks_journey_one_on_the_spark_build(dashboard_url, request, tmp_path):
    journey_one(dashboard_url, request, tmp_path)
