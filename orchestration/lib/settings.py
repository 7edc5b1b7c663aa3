"""Every setting of seatshift, resolved in one place: defaults < `.env` < environment < flags.

`SEATSHIFT_LANDING` and `SEATSHIFT_WAREHOUSE` are the public settings (docs/operations.md). The
repository's `.env` (KEY=VALUE lines, as `dagster dev` reads it) is read by every command, so one
`.env` gives the same settings to `seatshift refresh`, the dashboard and Dagster. Nothing is read
when this module is imported: `current()` resolves the settings when asked, a command's flags
go in through `configure(...)`, and child processes (Dagster's, Streamlit's, dbt's) get them
through `child_environment(...)`. No other module reads or writes the environment. Relative paths
are taken from the repository root, so commands behave the same from any folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOTENV = REPO_ROOT / ".env"

# Environment variable of each setting (and of `.env` lines).
ENVIRONMENT_NAMES = {
    "landing": "SEATSHIFT_LANDING",
    "warehouse": "SEATSHIFT_WAREHOUSE",
    "dagster_home": "DAGSTER_HOME",
    # An analyst may point a refresh at a working copy of the dbt project.
    "dbt_project": "SEATSHIFT_DBT_PROJECT",
    "dbt_vars": "SEATSHIFT_DBT_VARS",
    "dashboard_secrets": "SEATSHIFT_DASHBOARD_SECRETS",
    "sign_in_required": "SEATSHIFT_SIGN_IN_REQUIRED",
    # Set by `seatshift dashboard` for its server, which writes no warehouse file: its reads keep
    # the published file attached instead of opening it per query (dashboards/lib/queries/_core).
    "keep_warehouse_attached": "SEATSHIFT_KEEP_WAREHOUSE_ATTACHED",
    "sensor_interval_seconds": "SEATSHIFT_SENSOR_INTERVAL_SECONDS",
    "plausible_since": "SEATSHIFT_PLAUSIBLE_SINCE",
    "plausible_ahead_hours": "SEATSHIFT_PLAUSIBLE_AHEAD_HOURS",
    "fault_pause_at": "SEATSHIFT_FAULT_PAUSE_AT",
    "docs_url": "SEATSHIFT_DOCS_URL",
    # How much memory DuckDB may hold in a refresh: the loader's and checks' connections to the
    # build, and dbt's (profiles.yml reads the same variable); past it DuckDB spills to disk.
    "duckdb_memory_limit": "SEATSHIFT_DUCKDB_MEMORY_LIMIT",
    # `off`: a refresh never reuses a dbt docs page an earlier build of this checkout made
    # (lib/dbt_project.cached_docs_page); the bench measures a first build that way.
    "dbt_docs_pages": "SEATSHIFT_DBT_DOCS_PAGES",
    # A folder of a Stripe account's objects (JSON lines): every refresh imports it into the
    # landing folder first, and the sensor watches it.
    "stripe_export": "SEATSHIFT_STRIPE_EXPORT",
    "stripe_segment_key": "SEATSHIFT_STRIPE_SEGMENT_KEY",
    # The Spark engine (orchestration/lib/spark.py): its local catalog and tables, and the memory
    # of its JVM (dbt_project/profiles.yml reads both too).
    "spark_dir": "SEATSHIFT_SPARK_DIR",
    "spark_driver_memory": "SEATSHIFT_SPARK_DRIVER_MEMORY",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings in force, as text the way they were given ("" when not given)."""

    landing: str = ""
    warehouse: str = ""
    dagster_home: str = ""
    dbt_project: str = ""
    dbt_vars: str = ""  # YAML mapping passed to `dbt build --vars`
    dashboard_secrets: str = ""
    sign_in_required: str = ""
    keep_warehouse_attached: str = ""
    sensor_interval_seconds: str = ""
    plausible_since: str = ""
    plausible_ahead_hours: str = ""
    fault_pause_at: str = ""
    docs_url: str = ""
    duckdb_memory_limit: str = ""
    dbt_docs_pages: str = ""  # "off": no reuse of an earlier build's docs page
    stripe_export: str = ""
    stripe_segment_key: str = ""
    spark_dir: str = ""
    spark_driver_memory: str = ""


_dotenv_cache: dict[tuple[str, float], dict[str, str]] = {}


def read_dotenv(path: Path | None = None) -> dict[str, str]:
    """KEY=VALUE lines of a `.env` file (comments, blank lines and `export ` allowed)."""
    path = path or DOTENV
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return {}
    if key not in _dotenv_cache:
        _dotenv_cache.clear()
        _dotenv_cache[key] = _parse_dotenv(path)
    return _dotenv_cache[key]


def _parse_dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load(**flags: str | os.PathLike[str] | None) -> Settings:
    """Defaults < `.env` < environment < flags (a flag of None is not given)."""
    given = {**read_dotenv(), **os.environ}
    values = {
        field: given.get(name, "") for field, name in ENVIRONMENT_NAMES.items() if given.get(name)
    }
    unknown = set(flags) - set(ENVIRONMENT_NAMES)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values |= {field: str(value) for field, value in flags.items() if value is not None}
    return Settings(**values)


_flags: dict[str, str] = {}


def current() -> Settings:
    """The settings in force: resolved when asked (cheap: `.env` is read once per change of the
    file), so a command's flags, and a test's environment, hold from the moment they are set."""
    return load(**_flags)


def configure(**flags: str | os.PathLike[str] | None) -> Settings:
    """A command's flags over the environment, for the rest of this process (and its children,
    through `child_environment`)."""
    _flags.update({field: str(value) for field, value in flags.items() if value is not None})
    return current()


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a child process: this one's, with the settings in force spelled out
    (so a flag given to this command reaches the child) and `extra` over them."""
    environment = dict(os.environ)
    for field, value in dataclasses.asdict(current()).items():
        if value:
            environment[ENVIRONMENT_NAMES[field]] = value
    environment.update(extra)
    return environment


def environment() -> dict[str, str]:
    """A copy of this process's environment, for a library that takes one (dbt's invocation
    context): the one place besides `load` that reads it."""
    return dict(os.environ)


def point_dbt_at(database: Path) -> None:
    """dbt's `prod` target (dbt_project/profiles.yml) builds into `$SEATSHIFT_DBT_DATABASE`, and
    dagster-dbt starts dbt with this process's environment: that is where the path must go."""
    os.environ["SEATSHIFT_DBT_DATABASE"] = str(database)


def dbt_project_dir() -> Path:
    """The dbt project a refresh builds: `SEATSHIFT_DBT_PROJECT` (an analyst's working copy), else
    the repository's."""
    return _from_repo(current().dbt_project or REPO_ROOT / "dbt_project").resolve()


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


def from_here(path: str | os.PathLike[str] | None) -> Path | None:
    """A path given on the command line, as the shell means it: from the current folder. (A
    relative path in `.env`, a setting or a default is the repository's: see _from_repo.)"""
    return Path(path).expanduser().absolute() if path else None


def landing_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return _from_repo(override or current().landing or DEFAULT_LANDING)


def stripe_export_dir() -> Path | None:
    """The Stripe export folder every refresh imports (`SEATSHIFT_STRIPE_EXPORT`), or None."""
    folder = current().stripe_export
    return _from_repo(folder) if folder else None


def stripe_segment_key() -> str:
    """The Stripe customer metadata key that holds the segment (default `segment`)."""
    return current().stripe_segment_key or "segment"


def warehouse_path(override: str | os.PathLike[str] | None = None) -> Path:
    return _from_repo(override or current().warehouse or DEFAULT_WAREHOUSE)


def dagster_home(override: str | os.PathLike[str] | None = None) -> Path:
    """The Dagster instance folder, with the project's `dagster.yaml` in it.

    `seatshift refresh`, `seatshift dagster` (web server and daemon) and `make` all use this one
    folder, so every run, whoever started it, is recorded in the same run storage and queue.
    """
    home = _from_repo(override or current().dagster_home or DEFAULT_DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    installed = home / "dagster.yaml"
    shipped = DAGSTER_INSTANCE_YAML.read_text()
    if not installed.exists() or installed.read_text() != shipped:
        installed.write_text(shipped)
    return home


def build_dir(warehouse: Path) -> Path:
    """Unpublished builds live beside the warehouse: same filesystem, so publish is one rename."""
    return warehouse.parent / ".builds"


def lake_dir(warehouse: Path) -> Path:
    """The raw layer's Parquet parts (`orchestration.lib.lake`), beside the warehouse and named
    after it. The warehouse file lists the parts each build reads."""
    return warehouse.with_name(warehouse.name + ".lake")


def spark_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The Spark engine's catalog (a Derby metastore) and tables: `SEATSHIFT_SPARK_DIR`, else
    `data/spark`."""
    return _from_repo(override or current().spark_dir or "data/spark").resolve()


# Spark's share of a machine the suite shares. The local session plans the rating engine's large
# queries in the driver: a whole-project build of the sample ran out of 4g of heap near its end
# ("Not enough memory to build and broadcast the table",
# int_projected_revenue_aggregated_to_segment).
DEFAULT_SPARK_DRIVER_MEMORY = "8g"


def spark_driver_memory() -> str:
    return current().spark_driver_memory or DEFAULT_SPARK_DRIVER_MEMORY


def warehouse_spark_dir(warehouse: Path) -> Path:
    """Spark's working folder for a refresh of this warehouse (its catalog, the marts it wrote):
    `SEATSHIFT_SPARK_DIR` when set, else beside the warehouse and named after it, so two
    warehouses never share a Derby metastore (one process at a time may use one)."""
    return spark_dir(current().spark_dir or warehouse.with_name(warehouse.name + ".spark"))


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
def fault_pause_at() -> str | None:
    return current().fault_pause_at or None


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
    return _from_repo(override or current().dashboard_secrets or DEFAULT_DASHBOARD_SECRETS)


def refresh_log_path(warehouse: Path) -> Path:
    """dbt's log of the last command-line refresh (the Dagster UI keeps every run's)."""
    return warehouse.with_name(warehouse.name + ".last_refresh.log")


def dbt_parse_state_path(warehouse: Path) -> Path:
    """dbt's partial-parse state of the last refresh of this warehouse: the next refresh of the
    same warehouse (same profile) parses only what changed. Kept per warehouse, so refreshes of
    two warehouses from one checkout never make each other parse the whole project."""
    return warehouse.with_name(warehouse.name + ".dbt_parse_state.msgpack")


def data_docs_dir(warehouse: Path) -> Path:
    """The GX Data Docs of the published build's validations, one site per export. Named after
    the warehouse, like its dbt docs: two warehouses in one folder never share a site. A refresh
    writes them in its build folder; publish moves them here with the build."""
    return warehouse.with_name(warehouse.name + ".data_docs")


def dbt_docs_dir(warehouse: Path) -> Path:
    """dbt's documentation site of the published build (lineage down to the dashboard's pages,
    every model and column described): one `index.html`, dbt's static page with the manifest and
    the catalog inline, so it opens offline as well as from `seatshift docs`. A refresh makes it
    in its build folder and moves it here only when it publishes that build."""
    return warehouse.with_name(warehouse.name + ".dbt_docs")


def dbt_state_dir(warehouse: Path) -> Path:
    """dbt's manifest of the published build (`manifest.json`), its relations named in the
    database as the dev target attaches it (`published`, dbt_project/profiles.yml): an analyst's
    `dbt build --select ... --defer --state <this folder>` reads the models it does not select from
    the published warehouse, and `--select state:modified+` compares with the published code. A
    refresh writes it beside its build; publish moves it here with the build."""
    return warehouse.with_name(warehouse.name + ".dbt_state")


DBT_DOCS_INDEX = "index.html"
# Beside the page: the key of what it was made from (project code and engine, vars, the columns
# of every relation), so a build with the same key keeps the page instead of making it again.
DBT_DOCS_KEY = ".inputs_key"
# `seatshift docs` serves the dbt docs and the GX Data Docs here; the Data health page links to it.
DEFAULT_DOCS_PORT = 8080


def docs_url() -> str:
    """Where `seatshift docs` serves, as the dashboard links to it (`SEATSHIFT_DOCS_URL` when the
    server runs on another port)."""
    return (current().docs_url or f"http://127.0.0.1:{DEFAULT_DOCS_PORT}").rstrip("/")


# The daily refresh (UTC): Dagster's schedule and the dashboard's "next refresh" read this value.
REFRESH_SCHEDULE_CRON = "0 6 * * *"


# DuckDB's own default is 80% of the machine's memory, most of it kept as a cache of the file's
# blocks: at 100M events a refresh then held many GB for no gain. 4 GB leaves a 24 GB, 2-core
# machine room for dbt's process beside it (a refresh's peak stays under 6 GB).
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"


def duckdb_memory_limit() -> str:
    return current().duckdb_memory_limit or DEFAULT_DUCKDB_MEMORY_LIMIT


def dbt_docs_pages_reused() -> bool:
    """Whether a refresh may publish a docs page an earlier build made from the same inputs
    (`SEATSHIFT_DBT_DOCS_PAGES`, default on; `off`, `0`, `false` or `no` turn it off)."""
    return current().dbt_docs_pages.strip().lower() not in {"off", "0", "false", "no"}


# How often the daemon looks at the landing folder for new files.
def sensor_interval_seconds() -> int:
    return int(current().sensor_interval_seconds or 60)


def keep_warehouse_attached() -> bool:
    """Whether this process's dashboard reads keep the published warehouse attached (the
    server's, `SEATSHIFT_KEEP_WAREHOUSE_ATTACHED`); otherwise each read opens the file."""
    return bool(current().keep_warehouse_attached)


def sign_in_required() -> bool:
    """Set by `seatshift dashboard` when sign-in is configured: the dashboard fails closed."""
    return bool(current().sign_in_required)


# Plausible times (the export contract): a time at which something happened lies between the
# earliest plausible time and the refresh's start plus a lead that absorbs clock skew between
# systems.
PLAUSIBLE_SINCE = dt.datetime(2000, 1, 1)
PLAUSIBLE_AHEAD = dt.timedelta(days=1)


def plausible_since() -> dt.datetime:
    """The earliest plausible time (UTC); `SEATSHIFT_PLAUSIBLE_SINCE` overrides (ISO 8601)."""
    value = current().plausible_since
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
    value = current().plausible_ahead_hours
    if not value:
        return PLAUSIBLE_AHEAD
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not hours >= 0:
        raise ValueError(f"SEATSHIFT_PLAUSIBLE_AHEAD_HOURS={value!r} is not a number of hours >= 0")
    return dt.timedelta(hours=hours)
