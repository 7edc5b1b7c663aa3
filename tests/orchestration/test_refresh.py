"""End to end: `seatshift refresh` of the committed sample, reloads, bad input, a failed build."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import settings
from orchestration.lib.contract import EXPORTS
from orchestration.lib.lake import copy_warehouse
from tests.conftest import REPO_ROOT, refresh_environment, run_refresh
from tests.orchestration._reader import polling_reader


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table_fingerprints(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent content hash of every raw and mart table."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema not in ('audit', 'information_schema', 'main')
              and table_type = 'BASE TABLE'
            order by all
            """
        ).fetchall()
        return {
            f"{schema}.{table}": conn.execute(
                f"select count(*), bit_xor(hash(t)) from {schema}.{table} as t"
            ).fetchone()
            for schema, table in tables
        }


def test_sample_refresh_publishes_and_accounts_for_every_file(sample_refresh, sample_landing):
    files = sorted(path.name for path in sample_landing.iterdir() if not path.name.startswith("_"))
    report = _query(
        sample_refresh.warehouse,
        """
        select file_name, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined
        from audit.load_report order by file_name
        """,
    )
    assert [row[0] for row in report] == files
    assert {row[1] for row in report} == {"loaded"}
    for file_name, _, read, loaded, duplicate, quarantined in report:
        assert read == loaded + duplicate + quarantined, file_name
    assert "published" in sample_refresh.stdout
    # Progress on stderr, a line per stage as it starts; the first before anything is imported.
    progress = sample_refresh.stderr.splitlines()
    assert progress[0].startswith("[") and "loading the definitions" in progress[0]
    stages = [line.split("] ", 1)[1] for line in progress if line.startswith("[")]
    for stage in ("reading the landing folder", "loading telemetry.usage_events",
                  "checking telemetry.usage_events (Great Expectations)",
                  "building the dbt models and running their tests", "publishing"):  # fmt: skip
        assert stage in stages, stage
    assert stages.index("building the dbt models and running their tests") < stages.index(
        "publishing"
    )
    status = json.loads(settings.refresh_status_path(sample_refresh.warehouse).read_text())
    assert status["status"] == "published"


def test_account_month_covers_each_account_from_its_first_month_to_the_as_of_month(
    sample_warehouse,
):
    # Independent of dbt: the as-of time is the latest occurred_at, effective_at or issued_at
    # among the loaded raw rows, and each account has one row per month from its creation month.
    (as_of,) = _query(
        sample_warehouse,
        """
        select greatest(
            (select max(occurred_at) from telemetry.usage_events),
            (select max(effective_at) from entitlements.seat_events),
            (select max(issued_at) from billing.invoices))
        """,
    )[0]
    created = _query(
        sample_warehouse,
        "select account_id, min(created_at) from crm.accounts group by account_id",
    )

    def months_between(start: dt.datetime, end: dt.datetime) -> int:
        return (end.year - start.year) * 12 + end.month - start.month + 1

    expected_rows = sum(months_between(created_at, as_of) for _, created_at in created)
    (rows, accounts, last_month) = _query(
        sample_warehouse,
        "select count(*), count(distinct account_id), max(month) from marts.fct_account_month",
    )[0]
    assert accounts == len(created)
    assert rows == expected_rows
    assert last_month == dt.date(as_of.year, as_of.month, 1)


def test_account_month_usage_totals_equal_the_raw_events(sample_warehouse):
    raw = _query(
        sample_warehouse,
        """
        select sum(tasks), sum(tasks) filter (where actor_type = 'agent'),
               sum(input_tokens), sum(output_tokens)
        from telemetry.usage_events
        """,
    )[0]
    mart = _query(
        sample_warehouse,
        """
        select sum(tasks), sum(agent_tasks), sum(input_tokens), sum(output_tokens)
        from marts.fct_account_month
        """,
    )[0]
    assert tuple(int(value) for value in mart) == tuple(int(value) for value in raw)


BAD_FILES = {
    # A usage export without its `model` column: rejected whole, naming file and column.
    "usage_events__missing_column.csv": (
        "event_id,account_id,actor_type,user_id,agent_id,occurred_at,feature,"
        "input_tokens,output_tokens,tasks,outcome\n"
        "bad-1,acc-x,human,u1,,2026-01-01T00:00:00Z,chat,1,1,1,\n"
    ),
    # Not Parquet at all.
    "usage_events__garbage.parquet": "this is not a parquet file\n",
    # Only a header: loads, with zero rows.
    "support_tickets__header_only.csv": "ticket_id,account_id,created_at,category\n",
    # Matches no export.
    "refunds__2026-01.csv": "refund_id,amount\nr1,10.00\n",
}


@pytest.mark.faults  # `make test-faults`: two refreshes of bad files
def test_bad_input_is_accounted_for_and_reloads_change_nothing(sample_warehouse, tmp_path):
    """The sample's warehouse refreshed again from its own landing folder, beside four bad files:
    the sample's files are skipped as loaded, the bad ones accounted for, and no raw or mart
    table changes; with no new row, neither refresh runs a dbt build (that a build gives the same
    marts as the last is test_incremental's)."""
    warehouse = tmp_path / "seatshift.duckdb"
    copy_warehouse(sample_warehouse, warehouse)
    before = _table_fingerprints(warehouse)
    landing = tmp_path / "landing"
    shutil.copytree(REPO_ROOT / "seeds", landing)
    sample_files = {path.name for path in landing.iterdir() if not path.name.startswith("_")}
    for name, text in BAD_FILES.items():
        (landing / name).write_text(text)

    # The dashboard reads on, throughout: a reader polling the published file read-only must
    # never meet a lock error.
    with polling_reader(warehouse) as reader:
        run = run_refresh(landing, warehouse)
    assert run.returncode == 0, run.stdout + run.stderr
    assert reader.reads > 10 and reader.errors == [], reader.errors[:5]
    assert _table_fingerprints(warehouse) == before
    (refresh_id,) = _query(warehouse, "select max(refresh_id) from audit.refresh_log")[0]
    report = {
        row[0]: row[1:]
        for row in _query(
            warehouse,
            """
            select file_name, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined,
                   message
            from audit.load_report where refresh_id = ?
            """,
            [refresh_id],
        )
    }
    assert report["usage_events__missing_column.csv"][0] == "rejected"
    assert "model" in report["usage_events__missing_column.csv"][5]
    assert "usage_events__missing_column.csv" in report["usage_events__missing_column.csv"][5]
    assert report["usage_events__garbage.parquet"][0] == "rejected"
    assert report["support_tickets__header_only.csv"][:5] == ("loaded", 0, 0, 0, 0)
    assert report["refunds__2026-01.csv"][0] == "rejected"
    for name in BAD_FILES:
        assert name in run.stdout  # the printed load report names every file
    assert {report[name][0] for name in sample_files} == {"skipped_already_loaded"}
    assert "dbt: nothing new to build" in run.stdout

    with polling_reader(warehouse) as reader:
        again = run_refresh(landing, warehouse)
    assert again.returncode == 0, again.stdout + again.stderr
    assert reader.errors == [], reader.errors[:5]
    assert _table_fingerprints(warehouse) == before
    assert "dbt build skipped" in settings.refresh_log_path(warehouse).read_text()


@pytest.mark.faults  # `make test-faults`: a whole build of a broken copy of the project
def test_failed_build_exits_non_zero_with_one_line_and_keeps_the_published_warehouse(
    sample_warehouse, tmp_path
):
    warehouse = tmp_path / "seatshift.duckdb"
    copy_warehouse(sample_warehouse, warehouse)
    published_hash = _sha256(warehouse)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    (project / "models" / "staging" / "broken_on_purpose.sql").write_text(
        "select * from a_table_that_does_not_exist\n"
    )
    # A data test that fails gates the publish too (dbt's tests run inside `dbt build`, not as
    # Dagster asset checks).
    (project / "tests" / "assert_failing_on_purpose.sql").write_text("select 1 as broken_row\n")
    landing = tmp_path / "landing"
    shutil.copytree(REPO_ROOT / "seeds", landing)

    run = run_refresh(
        landing, warehouse, env=refresh_environment(SEATSHIFT_DBT_PROJECT=str(project))
    )
    assert run.returncode != 0
    # The reason is the command's last line, on its own: an operator reads just that line.
    reason = run.stderr.strip().splitlines()[-1]
    assert reason.startswith("refresh failed:"), run.stderr
    assert "broken_on_purpose" in reason
    assert "assert_failing_on_purpose" in reason
    assert _sha256(warehouse) == published_hash
    assert _query(warehouse, "select count(*) > 0 from marts.fct_account_month") == [(True,)]
    status = json.loads(settings.refresh_status_path(warehouse).read_text())
    assert status["status"] == "failed"
    assert "broken_on_purpose" in status["reason"]
    assert not list(settings.build_dir(warehouse).glob("*.duckdb")), "the failed build is left over"


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_every_export_of_the_sample_reaches_its_raw_table(sample_warehouse, export):
    (rows,) = _query(sample_warehouse, f"select count(*) from {EXPORTS[export].relation}")[0]
    assert rows > 0


def test_a_bad_flag_or_landing_path_is_refused_before_anything_runs(tmp_path):
    # --rebuild-months 2026-13 was refused by the dbt step, after the copy and the load, with a
    # hundred lines of Dagster's errors before the reason; a landing path that is a file was said
    # not to exist
    warehouse = tmp_path / "seatshift.duckdb"
    run = run_refresh(REPO_ROOT / "seeds", warehouse, "--rebuild-months", "2026-01,2026-13")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "refresh refused: --rebuild-months: rebuild month '2026-13' is not YYYY-MM; nothing ran"
    )
    afile = tmp_path / "landing.csv"
    afile.write_text("")
    run = run_refresh(afile, warehouse)
    assert run.returncode == 2
    assert run.stderr.strip() == f"refresh failed: the landing folder {afile} is not a folder"
    assert not warehouse.exists()


def test_a_first_refresh_with_no_export_file_fails_and_publishes_nothing(tmp_path):
    # it published an empty warehouse with "no files in the landing folder" and exit code 0, so a
    # mistyped folder read as a vendor without data on every page
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "_readme.txt").write_text("a note beside the exports, never loaded\n")
    warehouse = tmp_path / "seatshift.duckdb"
    run = run_refresh(landing, warehouse)
    assert run.returncode == 1, run.stderr
    reason = run.stderr.strip().splitlines()[-1]
    assert reason.startswith(
        f"refresh failed: landing__inventory: The landing folder {landing} holds no export file: "
        "a first refresh has nothing to build."
    ), run.stderr
    assert not warehouse.exists()
    assert not list(settings.build_dir(warehouse).glob("*.duckdb")), "the failed build is left over"


def test_a_misspelled_setting_is_named_after_the_publish(sample_warehouse, tmp_path):
    # `--vars '{trigger_automaton_share_min: 0.25}'` published with the default threshold and not
    # a word; the build records the name in rpt_settings as no setting, and the command now says so
    from orchestration.cli.refresh import unknown_settings_notes

    copy = tmp_path / "seatshift.duckdb"
    shutil.copyfile(sample_warehouse, copy)
    assert unknown_settings_notes(copy) == []
    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            """
            insert into marts.rpt_settings (name, value, default_value, description, unit,
                is_known_setting, is_overridden, setting_position)
            values ('trigger_automaton_share_min', '0.25', null, 'not a setting', null, false,
                true, 999)
            """
        )
    assert unknown_settings_notes(copy) == [
        "note: trigger_automaton_share_min is not a setting of this project (did you mean "
        "trigger_automation_share_min?): it changed nothing (marts.rpt_settings lists the "
        "settings in force)"
    ]
