"""The resources of every run: the warehouse (with this run's private build) and dbt.

Only this module registers resources.
"""

import contextlib
import datetime as dt
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import PrivateAttr

from orchestration.lib import lake, loader, settings, warehouse
from orchestration.lib.dbt_project import DBT_PROJECT, DBT_TARGET

# dbt runs under a guard that stops it when the refresh process dies (even by kill -9), so no
# orphaned `dbt build` keeps writing into a build nobody will publish (lib/dbt_guard.py).
DBT_EXECUTABLE = Path(sys.executable).with_name("seatshift-dbt")


class WarehouseResource(dg.ConfigurableResource):
    """The published DuckDB warehouse and the private build file this run writes into.

    Setting up the resource for a run takes the refresh lock and copies the published warehouse
    to a build file; the publish asset swaps the build in; tearing down discards a build that was
    not published and records why, so a failed refresh never reaches readers.
    """

    warehouse: str
    landing: str
    dbt_vars: str = ""  # YAML mapping passed to `dbt build --vars`

    _refresh_id: str = PrivateAttr(default="")
    _build: Path | None = PrivateAttr(default=None)
    _started_at: dt.datetime | None = PrivateAttr(default=None)
    _stack: contextlib.ExitStack | None = PrivateAttr(default=None)
    _failures: list[str] = PrivateAttr(default_factory=list)
    _copied_bytes: int = PrivateAttr(default=0)

    @property
    def published_path(self) -> Path:
        return settings.warehouse_path(self.warehouse)

    @property
    def lake_path(self) -> Path:
        """The published warehouse's lake, where this run's loads write their parts."""
        return settings.lake_dir(self.published_path)

    @property
    def landing_path(self) -> Path:
        return settings.landing_dir(self.landing)

    @property
    def refresh_id(self) -> str:
        return self._refresh_id

    @property
    def started_at(self) -> dt.datetime:
        return self._started_at or warehouse.utc_now()

    @property
    def build_path(self) -> Path:
        if self._build is None:
            raise RuntimeError("the warehouse resource is used outside a run")
        return self._build

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(
            warehouse.refresh_lock(self.published_path, on_wait=context.log.info)
        )
        # Holding the lock, anything an earlier attempt left behind is from one that was killed.
        interrupted = warehouse.recover_interrupted(self.published_path)
        if interrupted is not None:
            context.log.warning(f"an earlier refresh was interrupted: {interrupted['reason']}")
        self._remove_unlisted_parts(context)
        self._started_at = warehouse.utc_now()
        self._refresh_id = warehouse.new_refresh_id(context.run.run_id if context.run else None)
        warehouse.mark_in_flight(self.published_path, self._refresh_id, self._started_at)
        try:
            self._build = warehouse.start_build(self.published_path, self._refresh_id)
            self._copied_bytes = self._build.stat().st_size if self._build.exists() else 0
            with self.connect() as conn:
                loader.ensure_warehouse_schema(conn, self.lake_path)
        except Exception as error:  # no teardown follows a failed setup: clean up here
            self._failures.append(f"{type(error).__name__}: {error}")
            self.teardown_after_execution(context)
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            if self._build is not None and self._build.exists():
                warehouse.discard_build(self._build)
                warehouse.write_refresh_status(
                    self.published_path,
                    refresh_id=self._refresh_id,
                    status="failed",
                    started_at=self._started_at or warehouse.utc_now(),
                    reason="; ".join(self._failures) or "the refresh stopped before publish",
                )
                self._remove_unlisted_parts(context)
        finally:
            warehouse.clear_in_flight(self.published_path)
            if self._stack is not None:
                self._stack.close()

    def _remove_unlisted_parts(self, context: dg.InitResourceContext) -> None:
        """Parts no published build lists (a failed or killed refresh's), removed under the lock."""
        removed = lake.remove_unlisted(self.published_path, self.lake_path)
        if removed.files:
            context.log.info(
                f"removed {removed.files} lake part(s) no published build lists "
                f"({removed.bytes / 1e6:.1f} MB)"
            )

    def connect(self) -> duckdb.DuckDBPyConnection:
        conn = duckdb.connect(str(self.build_path))
        conn.execute("set TimeZone = 'UTC'")
        # Spills past it go to DuckDB's default `<build>.tmp`, which publish and discard remove.
        conn.execute(f"set memory_limit = '{settings.duckdb_memory_limit()}'")
        return conn

    def build_copy(self) -> dict:
        """What starting this run's build copied (the published warehouse file, the one copy a
        build makes) beside the lake parts it lists and reads in place."""
        listed = lake.listed_part_totals(self.build_path) if self.build_path.exists() else (0, 0)
        return {
            "build_copied_bytes": self._copied_bytes,
            "lake_parts_listed": listed[0],
            "lake_part_bytes_listed": listed[1],
        }

    def pause_for_fault_injection(self, stage: str) -> None:
        warehouse.pause_for_fault_injection(self.published_path, stage)

    def note_failure(self, reason: str) -> None:
        """Keep a reason for the status file; the run's own failure carries it to Dagster."""
        self._failures.append(reason)

    @property
    def staged_data_docs(self) -> Path:
        """Where this run's GX checks write their Data Docs, published with the build."""
        return warehouse.staged_data_docs_path(self.build_path)

    def stage_docs(self, static_index: Path, inputs_key: str | None = None) -> None:
        """dbt's docs page of this build, moved beside the warehouse when the build publishes."""
        warehouse.stage_docs(self.build_path, static_index, inputs_key)

    def stage_dbt_state(self, manifest: str) -> None:
        """dbt's state of this build (settings.dbt_state_dir), published with the build."""
        warehouse.stage_dbt_state(self.build_path, manifest)

    @property
    def has_published_dbt_state(self) -> bool:
        return (settings.dbt_state_dir(self.published_path) / "manifest.json").is_file()

    @property
    def published_docs_key(self) -> str | None:
        """What the published dbt docs page was made from (None: no page, or no key kept)."""
        return warehouse.published_docs_key(self.published_path)

    def publish(self) -> None:
        warehouse.publish_build(self.build_path, self.published_path)
        warehouse.write_refresh_status(
            self.published_path,
            refresh_id=self._refresh_id,
            status="published",
            started_at=self._started_at or warehouse.utc_now(),
        )


def warehouse_resource() -> WarehouseResource:
    return WarehouseResource(
        warehouse=str(settings.warehouse_path()),
        landing=str(settings.landing_dir()),
        dbt_vars=settings.current().dbt_vars,
    )


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource without the dbt Core adapter it opens in this process before
    every invocation. That adapter serves only the row counts and column metadata an asset can ask
    the invocation to fetch (`fetch_row_counts`, `fetch_column_metadata`), which no asset here
    asks for; opening it imports dbt and parses every macro of the project again, in the refresh's
    process and before dbt starts: about 3 s on the path of every refresh that builds."""

    def _initialize_dbt_core_adapter(self, args):  # dagster-dbt's hook: no adapter
        del args
        return None


def dbt_resource() -> DbtCliResource:
    # The venv's dbt, whether or not the venv is on PATH (the daemon, `.venv/bin/seatshift`).
    # The prod target (dbt_project/profiles.yml): the refresh's private build file. An analyst's
    # plain `dbt build` uses dev, which never writes the published warehouse.
    # No debug file log: each invocation writes into a target folder of its own that the step
    # removes when it ends, so the refresh never read that file. dbt's own lines go to the
    # refresh's log (`<warehouse>.last_refresh.log`). Writing every event at debug level (16 MB
    # for a build of the sample) cost about a tenth of a build's time.
    return DbtCli(
        project_dir=DBT_PROJECT,
        dbt_executable=str(DBT_EXECUTABLE),
        target=DBT_TARGET,
        global_config_flags=["--log-level-file", "none"],
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": warehouse_resource(),
            "dbt": dbt_resource(),
        }
    )
