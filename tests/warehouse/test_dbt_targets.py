"""dbt targets as the community uses them: an analyst's `dbt build` (target dev, the default)
builds into a file of its own and reads the published raw layer read-only; only a refresh (target
prod) writes a warehouse, and that into its private build file."""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings
from orchestration.lib.dbt_project import DBT_TARGET
from tests.conftest import REPO_ROOT

DBT = Path(sys.executable).with_name("dbt")


class AnalystPaths:
    """One published file, dev file and target folder for every analyst's build of this module.

    dbt parses only what changed when the profile is the one of its last parse (the dev target's
    profile holds both paths): each build after the first reads the target's parse state, as an
    analyst's second build does. A test copies the published warehouse in first; each build
    starts from no dev file and its dev file is moved out afterwards, for the test to read.
    """

    def __init__(self, folder: Path) -> None:
        self.published = folder / "published" / "seatshift.duckdb"
        self.dev = folder / "dev" / "dev.duckdb"
        self.target = folder / "target"
        self.published.parent.mkdir(parents=True)
        self.dev.parent.mkdir(parents=True)

    def publish(self, sample_warehouse: Path, *, with_state: bool = False) -> tuple[Path, Path]:
        """The sample copied in as the published warehouse (and the dbt state its refresh
        published beside it)."""
        shutil.copyfile(sample_warehouse, self.published)
        state = settings.dbt_state_dir(self.published)
        shutil.rmtree(state, ignore_errors=True)
        if with_state:
            shutil.copytree(settings.dbt_state_dir(sample_warehouse), state)
        return self.published, state

    def clear_dev(self) -> None:
        for leftover in self.dev.parent.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()


@pytest.fixture(scope="module")
def analyst(tmp_path_factory) -> AnalystPaths:
    return AnalystPaths(tmp_path_factory.mktemp("analyst"))


def _content(database: Path, relation: str) -> tuple:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(f"select count(*), bit_xor(hash(t)) from {relation} as t").fetchone()


def test_an_analysts_dbt_build_reads_the_published_raw_layer_and_never_writes_it(
    sample_warehouse, analyst, tmp_path
):
    published, _ = analyst.publish(sample_warehouse)
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    # cautious: only the tests whose every parent is selected
    completed = _analyst_build(
        tmp_path, analyst, "--select", "+dim_accounts", "--indirect-selection", "cautious"
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    dev = tmp_path / "dev.duckdb"
    # The published file is untouched, byte for byte; the analyst's models are in dev's file,
    # built from the published raw rows, so they equal the published build's.
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
    assert _content(dev, "marts.dim_accounts") == _content(published, "marts.dim_accounts")
    with duckdb.connect(str(dev), read_only=True) as conn:
        raw_tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'crm'"
        ).fetchone()[0]
    assert raw_tables == 0, "dev copied the raw layer instead of reading it"


def _analyst_build(
    out: Path, analyst: AnalystPaths, *args: str, project: Path | None = None
) -> subprocess.CompletedProcess:
    """`dbt build` in the dev target from the project folder, as docs/warehouse.md says, with no
    target named; its dev file is then moved to `out`/dev.duckdb."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SEATSHIFT_")
    }
    analyst.clear_dev()
    completed = subprocess.run(
        [str(DBT), "build", *args, "--exclude", "test_type:unit",
         "--target-path", str(analyst.target), "--log-path", str(out / "logs")],
        cwd=project or REPO_ROOT / "dbt_project",
        env=environment | {"SEATSHIFT_DBT_PUBLISHED": str(analyst.published),
                           "SEATSHIFT_DBT_DEV_DATABASE": str(analyst.dev)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    if analyst.dev.exists():
        shutil.move(analyst.dev, out / "dev.duckdb")
    analyst.clear_dev()
    return completed


def _marts(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    return {name for (name,) in rows}


def test_a_selective_build_in_dev_defers_what_it_does_not_select_to_the_published_build(
    sample_warehouse, analyst, tmp_path
):
    published, state = analyst.publish(sample_warehouse, with_state=True)

    # fct_pilot_accounts' tests read marts it does not build (relationships to dim_accounts,
    # fct_price_model_guardrails ...): without the published state dev has none of them.
    alone = _analyst_build(tmp_path / "alone", analyst, "--select", "fct_pilot_accounts")
    assert alone.returncode != 0
    assert "does not exist" in alone.stdout

    deferred = _analyst_build(
        tmp_path / "deferred", analyst, "--select", "fct_pilot_accounts",
        "--defer", "--state", str(state),
    )  # fmt: skip
    assert deferred.returncode == 0, deferred.stdout[-3000:]
    dev = tmp_path / "deferred" / "dev.duckdb"
    # Only the selection was built; the rest was read from the published warehouse, whose build
    # came from the same code and rows, so the rebuilt mart equals the published one.
    assert _marts(dev) == {"fct_pilot_accounts"}
    assert _content(dev, "marts.fct_pilot_accounts") == _content(
        published, "marts.fct_pilot_accounts"
    )


def test_state_modified_selects_an_analysts_edit_and_what_follows_it(
    sample_warehouse, analyst, tmp_path
):
    _, state = analyst.publish(sample_warehouse, with_state=True)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    # The published state describes this very code: nothing is modified yet.
    unchanged = _analyst_build(
        tmp_path / "unchanged", analyst, "--select", "state:modified+", "--state", str(state),
        project=project,
    )  # fmt: skip
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert "does not match any enabled nodes" in unchanged.stdout

    edited = (
        project / "models/intermediate/revenue/int_support_tickets_counted_to_account_month.sql"
    )
    edited.write_text("-- an analyst's edit\n" + edited.read_text())
    changed = _analyst_build(
        tmp_path / "changed", analyst, "--select", "state:modified+",
        "--defer", "--state", str(state), project=project,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stdout[-3000:]
    dev = tmp_path / "changed" / "dev.duckdb"
    # The edited model's descendants were built in dev; its unchanged parents were not.
    marts = _marts(dev)
    assert "fct_account_month" in marts
    assert "dim_accounts" not in marts and "fct_seat_ledger" not in marts


def test_the_refresh_builds_the_prod_target():
    from orchestration.defs.resources import dbt_resource

    assert DBT_TARGET == "prod"
    assert dbt_resource().target == "prod"
    # dbt's debug file log would go to the invocation's own target folder, removed after the step
    assert dbt_resource().global_config_flags == ["--log-level-file", "none"]


def test_the_refresh_opens_no_dbt_adapter_of_its_own_before_dbt_runs():
    from dagster_dbt import DbtCliResource

    from orchestration.defs.resources import dbt_resource

    # dagster-dbt opens a dbt Core adapter in the calling process before each invocation, through
    # this method, for row counts and column metadata no asset here fetches; the refresh's
    # resource skips it. A dagster-dbt that renames or drops the hook fails here, not silently.
    assert "_initialize_dbt_core_adapter" in vars(DbtCliResource)
    assert "self._initialize_dbt_core_adapter(" in inspect.getsource(DbtCliResource.cli)
    assert dbt_resource()._initialize_dbt_core_adapter(["build"]) is None
