"""The revenue projection and the migration plan on real builds: the shape and the
invariants on a generated company, and the projection rebuilt with `dbt build --vars` on a copy of
the sample warehouse against an independent computation of the segments' trailing logo churn
(docs block revenue_projection): with growth off, the current model's middle projection is month 0 x
(1 - churn)^k; with churn, growth and the extra shock churn off, it is flat."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings
from tests.conftest import REPO_ROOT, SEATSHIFT, run_refresh

DBT = Path(sys.executable).with_name("dbt")
HISTORY_MONTHS = 12  # projection_history_months' default


def _rebuilt_with_vars(warehouse: Path, folder: Path, variables: dict) -> Path:
    """The projection's models rebuilt by `dbt build --vars` on a copy of the warehouse, with
    their data tests (the invariants must hold under any settings)."""
    copy = folder / "rebuilt.duckdb"
    shutil.copyfile(warehouse, copy)
    command = [
        str(DBT), "build", "--target", "prod", "--select", "int_projection_origins+",
        "--exclude", "test_type:unit",  # hand-worked cases hold for their own vars, not these
        "--vars", json.dumps(variables),
        "--project-dir", str(REPO_ROOT / "dbt_project"),
        "--profiles-dir", str(REPO_ROOT / "dbt_project"),
        "--target-path", str(folder / "target"),
        "--log-path", str(folder / "logs"),
    ]  # fmt: skip
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "SEATSHIFT_DBT_DATABASE": str(copy)},
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    return copy


def _independent_churn(conn: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each segment's pooled monthly logo churn over the 12 months to the as-of month, from
    fct_account_month in Python: of the accounts with MRR > 0 at the end of m-1, those at 0 at m."""
    rows = conn.execute("select account_id, segment, month, mrr_usd from marts.fct_account_month")
    mrr = {
        (account, month): (segment, float(value or 0))
        for account, segment, month, value in rows.fetchall()
    }
    months = sorted({month for _, month in mrr})
    window = months[-HISTORY_MONTHS:]
    at_risk: dict[str, int] = {}
    churned: dict[str, int] = {}
    for (account, month), (segment, value) in mrr.items():
        if month not in window or months.index(month) == 0:
            continue
        previous = mrr.get((account, months[months.index(month) - 1]))
        if previous is None or previous[1] <= 0:
            continue
        at_risk[segment] = at_risk.get(segment, 0) + 1
        churned[segment] = churned.get(segment, 0) + (value <= 0)
    return {segment: churned[segment] / at_risk[segment] for segment in at_risk}


@pytest.fixture(scope="module")
def without_growth(sample_warehouse, tmp_path_factory) -> Path:
    return _rebuilt_with_vars(
        sample_warehouse,
        tmp_path_factory.mktemp("projection_without_growth"),
        {"projection_growth_multiplier": 0, "projection_scenario_spread": 0},
    )


def test_without_growth_the_current_model_decays_by_the_measured_churn(without_growth):
    with duckdb.connect(str(without_growth), read_only=True) as conn:
        churn = _independent_churn(conn)
        rows = conn.execute(
            """
            select segment, months_ahead, projected_revenue_usd
            from marts.fct_revenue_projection
            where is_current_model and scenario = 'middle' and segment <> 'all'
            order by segment, months_ahead
            """
        ).fetchall()
    month_zero = {segment: float(value) for segment, k, value in rows if k == 0}
    checked = 0
    for segment, months_ahead, value in rows:
        expected = month_zero[segment] * (1 - churn.get(segment, 0.0)) ** months_ahead
        assert float(value) == pytest.approx(expected, abs=0.01), (segment, months_ahead)
        checked += 1
    assert checked == 25 * len(month_zero)
    assert any(0 < rate < 1 for rate in churn.values()), "the sample has churn to measure"


def test_with_churn_growth_and_shock_churn_off_the_projection_is_flat(sample_warehouse, tmp_path):
    flat = _rebuilt_with_vars(
        sample_warehouse,
        tmp_path,
        {
            "projection_churn_multiplier": 0,
            "projection_growth_multiplier": 0,
            "projection_shock_churn": 0,
        },
    )
    with duckdb.connect(str(flat), read_only=True) as conn:
        moved = conn.execute(
            """
            select projection.segment, projection.price_model_id, projection.scenario,
                projection.months_ahead
            from marts.fct_revenue_projection as projection
            inner join marts.fct_revenue_projection as month_zero
                on projection.segment = month_zero.segment
                    and projection.price_model_id = month_zero.price_model_id
                    and projection.scenario = month_zero.scenario
                    and month_zero.months_ahead = 0
            where projection.projected_revenue_usd <> month_zero.projected_revenue_usd
                or projection.projected_accounts <> month_zero.projected_accounts
            """
        ).fetchall()
        (rows,) = conn.execute("select count(*) from marts.fct_revenue_projection").fetchone()
    assert rows > 0
    assert moved == []


def test_a_generated_company_gets_the_whole_projection_and_a_plan_with_credits(
    generated_warehouse,
):
    with duckdb.connect(str(generated_warehouse), read_only=True) as conn:
        shape = conn.execute(
            """
            select segment, price_model_id, count(*) as scenario_months,
                count(distinct scenario) as scenarios, min(months_ahead), max(months_ahead)
            from marts.fct_revenue_projection
            group by segment, price_model_id
            """
        ).fetchall()
        (models,) = conn.execute("select count(*) from marts.dim_price_models").fetchone()
        unordered = conn.execute(
            """
            select count(*) from (
                select segment, price_model_id, months_ahead,
                    max(projected_revenue_usd) filter (where scenario = 'worst') as worst,
                    max(projected_revenue_usd) filter (where scenario = 'middle') as middle,
                    max(projected_revenue_usd) filter (where scenario = 'best') as best
                from marts.fct_revenue_projection group by all
            ) where not (worst <= middle and middle <= best)
            """
        ).fetchone()[0]
        current_mape = conn.execute(
            """
            select segment, max(backtest_mape) from marts.fct_revenue_projection
            where is_current_model group by segment
            """
        ).fetchall()
        waves, credited = conn.execute(
            """
            select count(distinct wave), count(*) filter (where transition_credit_usd > 0)
            from marts.fct_migration_plan
            """
        ).fetchone()
    assert {segment for segment, *_ in shape} == {"smb", "mid_market", "enterprise", "all"}
    assert len(shape) == 4 * models
    assert all(row[2:] == (75, 3, 0, 24) for row in shape), shape
    assert unordered == 0
    assert dict(current_mape)["all"] is not None
    assert waves >= 2 and credited > 0


# `make test-scale`: a company generated and refreshed whole (about 95 s), beside the sample's build
@pytest.mark.scale
def test_a_small_company_with_extreme_growth_refreshes_and_its_band_stays_bounded(
    tmp_path, sample_refresh
):
    """80 accounts over 14 months (seed 43): a history short and wild enough that an unbounded
    growth rate once compounded past what a decimal holds and cost the company its warehouse.
    Every month's growth is now held at or below projection_max_monthly_growth, so the current
    model's best case k months ahead is at most month 0 x (1 + that)^k (its bill is its MRR,
    rated linearly), and the refresh publishes.

    Its warehouse is new, but its code, vars and relations are the sample's (published before
    it: `sample_refresh`), so its dbt docs page is the sample build's, not made again."""
    landing = tmp_path / "landing"
    subprocess.run(
        [str(SEATSHIFT), "generate", "--out", str(landing), "--accounts", "80",
         "--months", "14", "--seed", "43"],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
    )  # fmt: skip
    run = run_refresh(landing, tmp_path / "seatshift.duckdb")
    assert run.returncode == 0, run.stdout + run.stderr
    dbt_log = settings.refresh_log_path(run.warehouse).read_text()
    assert "dbt docs reused:" in dbt_log
    docs = settings.dbt_docs_dir(run.warehouse)
    sample_docs = settings.dbt_docs_dir(sample_refresh.warehouse)
    assert (docs / settings.DBT_DOCS_KEY).read_text() == (
        sample_docs / settings.DBT_DOCS_KEY
    ).read_text()
    assert "dbt docs of this build:" in run.stdout
    with duckdb.connect(str(run.warehouse), read_only=True) as conn:
        (max_growth,) = conn.execute(
            "select cast(value as double) from marts.rpt_settings"
            " where name = 'projection_max_monthly_growth'"
        ).fetchone()
        beyond = conn.execute(
            """
            select segment, months_ahead, projected_revenue_usd, month_zero
            from (
                select *, first_value(projected_revenue_usd) over (
                    partition by segment, price_model_id, scenario order by months_ahead
                ) as month_zero
                from marts.fct_revenue_projection
                where is_current_model
            )
            where projected_revenue_usd > month_zero * power(1 + ?, months_ahead) + 0.01
            """,
            [max_growth],
        ).fetchall()
        (rows,) = conn.execute("select count(*) from marts.fct_revenue_projection").fetchone()
    assert rows > 0
    assert beyond == []
