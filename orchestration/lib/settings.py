"""Where things are. Read once; environment variables override the documented defaults.

`SEATSHIFT_LANDING` and `SEATSHIFT_WAREHOUSE` are the public settings of interfaces.md. Relative
paths are taken from the repository root, so commands behave the same from any folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# An analyst may point a refresh at a working copy of the dbt project (`SEATSHIFT_DBT_PROJECT`).
DBT_PROJECT_DIR = Path(
    os.environ.get("SEATSHIFT_DBT_PROJECT") or REPO_ROOT / "dbt_project"
).resolve()
DASHBOARD_ENTRYPOINT = REPO_ROOT / "dashboards" / "streamlit_app.py"
SEEDS_DIR = REPO_ROOT / "seeds"

DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/seatshift.duckdb"
DEFAULT_DAGSTER_HOME = "data/dagster_home"
# The Dagster instance the project ships (telemetry off, one refresh per warehouse at a time):
# `dagster_home()` installs it as `$DAGSTER_HOME/dagster.yaml`.
DAGSTER_INSTANCE_YAML = REPO_ROOT / "orchestration" / "dagster.yaml"
# The run tag whose value (the warehouse path) the instance's run queue limits to one run at once.
WAREHOUSE_RUN_TAG = "seatshift/warehouse"


def _from_repo(path: str | os.PathLike[str]) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


def landing_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return _from_repo(override or os.environ.get("SEATSHIFT_LANDING") or DEFAULT_LANDING)


def warehouse_path(override: str | os.PathLike[str] | None = None) -> Path:
    return _from_repo(override or os.environ.get("SEATSHIFT_WAREHOUSE") or DEFAULT_WAREHOUSE)


def dagster_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The Dagster instance folder, with the project's `dagster.yaml` in it.

    `seatshift refresh`, `seatshift dagster` (web server and daemon) and `make` all use this one
    folder, so every run, whoever started it, is recorded in the same run storage and queue.
    """
    home = _from_repo(override or os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    installed = home / "dagster.yaml"
    shipped = DAGSTER_INSTANCE_YAML.read_text()
    if not installed.exists() or installed.read_text() != shipped:
        installed.write_text(shipped)
    return home


def build_dir(warehouse: Path) -> Path:
    """Unpublished builds live beside the warehouse: same filesystem, so publish is one rename."""
    return warehouse.parent / ".builds"


def refresh_status_path(warehouse: Path) -> Path:
    """The outcome of the last refresh attempt, kept outside the warehouse file.

    A failed build is thrown away, so its reason cannot live inside the published warehouse;
    the dashboard reads this small JSON file to say that the last attempt failed and why.
    """
    return warehouse.with_name(warehouse.name + ".last_refresh.json")


def refresh_in_flight_path(warehouse: Path) -> Path:
    """Written when a refresh starts and removed when it ends, published or failed: one found by
    the next refresh (which holds the lock) belongs to an attempt that was killed or crashed."""
    return warehouse.with_name(warehouse.name + ".refresh_in_flight.json")


def interrupted_refreshes_path(warehouse: Path) -> Path:
    """Append-only record of interrupted attempts; every publish copies it into refresh_log."""
    return warehouse.with_name(warehouse.name + ".interrupted_refreshes.jsonl")


# Fault injection for the fault suite (tests/orchestration/test_faults.py): a refresh started
# with SEATSHIFT_FAULT_PAUSE_AT=<stage> (load, checks, publish) writes `<warehouse>.paused_at`
# and sleeps at the start of that stage, so a test can kill it there deterministically.
FAULT_PAUSE_AT = os.environ.get("SEATSHIFT_FAULT_PAUSE_AT") or None


def audit_trail_path(warehouse: Path) -> Path:
    """The dashboard's append-only record of downloads (who, what, when, which filters).

    Beside the warehouse, never inside it: a refresh replaces the warehouse file and cleans only
    its build folder, so the trail outlives every refresh.
    """
    return warehouse.with_name(warehouse.name + ".audit_trail.jsonl")


# The dashboard's secrets (Streamlit's `secrets.toml`: `[auth]` for sign-in, `[seatshift.roles]`):
# `seatshift dashboard --secrets PATH`, else `SEATSHIFT_DASHBOARD_SECRETS`, else this file. Only
# this one file is read (not `~/.streamlit/secrets.toml`), so what the command checks before it
# binds an address is exactly what the dashboard signs readers in with.
DEFAULT_DASHBOARD_SECRETS = ".streamlit/secrets.toml"


def dashboard_secrets_path(override: str | os.PathLike[str] | None = None) -> Path:
    return _from_repo(
        override or os.environ.get("SEATSHIFT_DASHBOARD_SECRETS") or DEFAULT_DASHBOARD_SECRETS
    )


def refresh_log_path(warehouse: Path) -> Path:
    """dbt's log of the last command-line refresh (the Dagster UI keeps every run's)."""
    return warehouse.with_name(warehouse.name + ".last_refresh.log")


def dbt_parse_state_path(warehouse: Path) -> Path:
    """dbt's partial-parse state of the last refresh of this warehouse: the next refresh of the
    same warehouse (same profile) parses only what changed. Kept per warehouse, so refreshes of
    two warehouses from one checkout never make each other parse the whole project."""
    return warehouse.with_name(warehouse.name + ".dbt_parse_state.msgpack")


def data_docs_dir(warehouse: Path) -> Path:
    return warehouse.parent / "data_docs"


# The daily refresh (UTC): Dagster's schedule and the dashboard's "next refresh" read this value.
REFRESH_SCHEDULE_CRON = "0 6 * * *"
# How often the daemon looks at the landing folder for new files.
SENSOR_MINIMUM_INTERVAL_SECONDS = int(os.environ.get("SEATSHIFT_SENSOR_INTERVAL_SECONDS") or 60)


# exports.md, "Plausible times": a time at which something happened lies between the earliest
# plausible time and the refresh's start plus a lead that absorbs clock skew between systems.
PLAUSIBLE_SINCE = dt.datetime(2000, 1, 1)
PLAUSIBLE_AHEAD = dt.timedelta(days=1)


def plausible_since() -> dt.datetime:
    """The earliest plausible time (UTC); `SEATSHIFT_PLAUSIBLE_SINCE` overrides (ISO 8601)."""
    value = os.environ.get("SEATSHIFT_PLAUSIBLE_SINCE")
    if not value:
        return PLAUSIBLE_SINCE
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"SEATSHIFT_PLAUSIBLE_SINCE={value!r} is not an ISO 8601 date or time"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def plausible_ahead() -> dt.timedelta:
    """How far past the refresh's start a time may lie; `SEATSHIFT_PLAUSIBLE_AHEAD_HOURS`."""
    value = os.environ.get("SEATSHIFT_PLAUSIBLE_AHEAD_HOURS")
    if not value:
        return PLAUSIBLE_AHEAD
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not hours >= 0:
        raise ValueError(f"SEATSHIFT_PLAUSIBLE_AHEAD_HOURS={value!r} is not a number of hours >= 0")
    return dt.timedelta(hours=hours)
