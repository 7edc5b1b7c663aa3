"""Session fixtures: one real refresh of the committed sample, shared by every test that reads it.

The refresh runs the `seatshift refresh` command in a subprocess, exactly as an operator would,
into a temporary warehouse; tests that need to change a warehouse copy it first. `make test` runs
the suite in two pytest-xdist workers (the machine has two cores and a refresh keeps one busy):
the first worker that needs a session warehouse builds it under a file lock, the other reads it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "seeds"
SEATSHIFT = Path(sys.executable).with_name("seatshift")
# The suite's refreshes record their Dagster runs in an instance of their own, not in data/.
TEST_DAGSTER_HOME = tempfile.mkdtemp(prefix="seatshift-dagster-home-")
atexit.register(shutil.rmtree, TEST_DAGSTER_HOME, ignore_errors=True)


# The slowest files first. The suites hand whole files to the xdist workers (--dist loadfile) in
# collection order, not reordered by test count (--no-loadscope-reorder): by count, a file of one
# six-minute test came last and kept one worker busy for minutes while the other idled. In
# `make test-faults` the daemon's file is second: it builds its own warehouse while the first
# worker builds the sample; the incremental file follows it on that worker. The files of one
# to four minutes after the builds' files (the ingest cases, the analyst's dev builds, the Stripe
# import, the assigned billing, the Shadow billing page's browser tests) go out before the short
# ones, which then even out the workers' ends.
SLOWEST_FILES = (
    "tests/orchestration/test_faults.py",
    "tests/orchestration/test_dagster_daemon.py",
    "tests/orchestration/test_incremental.py",
    "tests/orchestration/test_refresh.py",
    "tests/warehouse/test_migration_triggers.py",
    "tests/orchestration/test_hostile_refresh.py",
    "tests/warehouse/test_billing.py",
    "tests/warehouse/test_projection.py",
    "tests/orchestration/test_definitions.py",
    "tests/dashboards/test_journey_browser.py",
    "tests/dashboards/test_projection_edit.py",
    "tests/orchestration/test_ingest.py",
    "tests/warehouse/test_dbt_targets.py",
    "tests/orchestration/test_stripe_import.py",
    "tests/warehouse/test_assigned_billing.py",
    "tests/dashboards/test_shadow_billing.py",
    "tests/bench/test_bench.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: position for position, path in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@dataclass(frozen=True)
class RefreshRun:
    landing: Path
    warehouse: Path
    returncode: int
    stdout: str
    stderr: str


def refresh_environment(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SEATSHIFT_", "DAGSTER_HOME"))
    }
    env["DAGSTER_HOME"] = TEST_DAGSTER_HOME
    env.update(overrides)
    return env


def run_refresh(
    landing: Path, warehouse: Path, *args: str, env: dict | None = None, timeout: float = 600
) -> RefreshRun:
    completed = subprocess.run(
        [
            str(SEATSHIFT),
            "refresh",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env or refresh_environment(),
        cwd=REPO_ROOT,
        timeout=timeout,
    )
    return RefreshRun(landing, warehouse, completed.returncode, completed.stdout, completed.stderr)


def shared_by_workers(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict]
) -> dict:
    """`build(folder)` once per test run, whichever xdist worker asks first; the others wait on a
    file lock and read its JSON result. Without xdist it simply builds."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, shared by every worker
    folder, result = root / f"shared-{name}", root / f"shared-{name}.json"
    with FileLock(str(root / f"shared-{name}.lock")):
        if not result.exists():
            folder.mkdir(exist_ok=True)
            result.write_text(json.dumps(build(folder)))
    return json.loads(result.read_text())


def refresh_record(run: RefreshRun) -> dict:
    """A refresh as JSON, for `shared_by_workers`; `recorded_refresh` reads it back."""
    return {**asdict(run), "landing": str(run.landing), "warehouse": str(run.warehouse)}


def recorded_refresh(record: dict) -> RefreshRun:
    return RefreshRun(landing=Path(record["landing"]), warehouse=Path(record["warehouse"]),
                      returncode=record["returncode"], stdout=record["stdout"],
                      stderr=record["stderr"])  # fmt: skip


def copy_seeds(landing: Path) -> Path:
    landing.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEEDS_DIR.iterdir()):
        if path.is_file():
            shutil.copy2(path, landing / path.name)
    return landing


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory) -> Path:
    """A landing folder holding the committed sample exports."""
    return copy_seeds(tmp_path_factory.mktemp("landing"))


def dagster_run_events(run_id: str) -> dict:
    """What a refresh's Dagster run recorded in the suite's instance: the assets it materialized
    and each asset check's evaluation (asset, check, passed, severity), and the steps' own log
    messages (step key, message)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(TEST_DAGSTER_HOME)
    materialized, checks, messages = set(), [], []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            messages.append([record.step_key, record.user_message])
            continue
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add("/".join(event.asset_key.path))
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            checks.append(["/".join(evaluation.asset_key.path), evaluation.check_name,
                           evaluation.passed, evaluation.severity.value])  # fmt: skip
    return {"materialized": sorted(materialized), "checks": checks, "messages": messages}


@pytest.fixture(scope="session")
def sample_refresh_record(tmp_path_factory) -> dict:
    def build(folder: Path) -> dict:
        run = run_refresh(copy_seeds(folder / "landing"), folder / "seatshift.duckdb")
        record = refresh_record(run)
        published = [line for line in run.stdout.splitlines() if line.startswith("published ")]
        if published:  # "published <warehouse> (run <run id>)"
            record["dagster"] = dagster_run_events(published[-1].rsplit(" ", 1)[-1].rstrip(")"))
        return record

    return shared_by_workers(tmp_path_factory, "sample", build)


@pytest.fixture(scope="session")
def sample_refresh(sample_refresh_record) -> RefreshRun:
    run = recorded_refresh(sample_refresh_record)
    assert run.returncode == 0, f"the sample refresh failed:\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="session")
def sample_dagster_run(sample_refresh, sample_refresh_record) -> dict:
    """The sample refresh's Dagster run as the instance recorded it (see dagster_run_events)."""
    return sample_refresh_record["dagster"]


@pytest.fixture(scope="session")
def sample_warehouse(sample_refresh) -> Path:
    """The published warehouse of the committed sample. Read it; copy it before changing it."""
    return sample_refresh.warehouse


# The analyst's settings of the shared refresh with vars (an unknown name among them).
REFRESH_VARS = "{utilization_red_flag: 0.6, trigger_automation_share_min: 0, not_a_setting: 1}"


@pytest.fixture(scope="session")
def sample_refreshed_with_vars(sample_warehouse, tmp_path_factory) -> RefreshRun:
    """A copy of the sample's warehouse as an older project left it, refreshed again with
    REFRESH_VARS (nothing new loads: the vars are why dbt builds). Older: its price list has no
    dates and its price book's components no spend cap yet (an integer where a decimal is
    declared now). One refresh read by the tests of `--vars` (test_migration_triggers) and of the
    seed upgrade (test_seed_upgrade): a refresh of the sample costs minutes. Read it only."""

    def build(folder: Path) -> dict:
        import duckdb

        from orchestration.lib.lake import copy_warehouse

        warehouse = folder / "seatshift.duckdb"
        copy_warehouse(sample_warehouse, warehouse)
        with duckdb.connect(str(warehouse)) as conn:
            conn.execute(
                "create or replace table reference.model_costs as select model, "
                "input_usd_per_1k_tokens, output_usd_per_1k_tokens from reference.model_costs"
            )
            conn.execute("alter table price_book.price_components drop column cap_policy")
            conn.execute("alter table price_book.price_components drop column cap_amount")
        return refresh_record(
            run_refresh(copy_seeds(folder / "landing"), warehouse, "--vars", REFRESH_VARS)
        )

    return recorded_refresh(shared_by_workers(tmp_path_factory, "sample-with-vars", build))


@pytest.fixture(scope="session")
def spark_refresh(tmp_path_factory) -> RefreshRun:
    """`seatshift refresh --engine spark` of the committed sample, as an operator runs it: the one
    Spark build of the whole project the Spark tests share (a build takes minutes). Its node
    results stay in `<warehouse>.spark/build.json`. Marked tests only (`make test-spark`, whose
    two workers share it: the other one meanwhile builds through the Thrift server)."""

    def build(folder: Path) -> dict:
        run = run_refresh(
            copy_seeds(folder / "landing"),
            folder / "warehouse" / "seatshift.duckdb",
            "--engine",
            "spark",
            timeout=2400,
        )
        return refresh_record(run)

    return recorded_refresh(shared_by_workers(tmp_path_factory, "spark-refresh", build))


@pytest.fixture(scope="session")
def generated_company(tmp_path_factory) -> dict:
    """A 150-account, 12-month company (seed 5), generated and refreshed as an operator would:
    the independent computations check the warehouse beyond the hand-made sample."""

    def build(folder: Path) -> dict:
        landing = folder / "landing"
        generated = subprocess.run(
            [str(SEATSHIFT), "generate", "--out", str(landing), "--accounts", "150",
             "--months", "12", "--seed", "5"],
            check=True, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
        )  # fmt: skip
        run = run_refresh(landing, folder / "seatshift.duckdb")
        return {"warehouse": str(run.warehouse), "returncode": run.returncode,
                "output": run.stdout + run.stderr, "generate_stdout": generated.stdout,
                "generate_stderr": generated.stderr}  # fmt: skip

    return shared_by_workers(tmp_path_factory, "generated", build)


@pytest.fixture(scope="session")
def generated_warehouse(generated_company) -> Path:
    assert generated_company["returncode"] == 0, (
        f"the refresh failed:\n{generated_company['output']}"
    )
    return Path(generated_company["warehouse"])


@pytest.fixture(scope="session")
def thousand_account_warehouse(tmp_path_factory) -> Path:
    """A 1,000-account, 12-month company (seed 9191), generated and refreshed: the checks at
    scale (`make test-scale`) hold the warehouse to independent computations on it."""

    def build(folder: Path) -> dict:
        landing = folder / "landing"
        subprocess.run(
            [str(SEATSHIFT), "generate", "--out", str(landing), "--accounts", "1000",
             "--months", "12", "--seed", "9191"],
            check=True, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600,
        )  # fmt: skip
        run = run_refresh(landing, folder / "seatshift.duckdb", timeout=1800)
        return {"warehouse": str(run.warehouse), "returncode": run.returncode,
                "output": run.stdout[-4000:] + run.stderr[-4000:]}  # fmt: skip

    built = shared_by_workers(tmp_path_factory, "thousand-accounts", build)
    assert built["returncode"] == 0, built["output"]
    return Path(built["warehouse"])
