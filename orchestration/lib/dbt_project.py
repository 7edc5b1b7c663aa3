"""The dbt project as Dagster sees it, and a manifest that is never stale.

`@dbt_assets` reads `target/manifest.json` when the definitions load, and the definitions load in
many processes: `seatshift refresh`, the Dagster web server's and the daemon's code servers, a run
launched by the daemon. None of them may rely on `dbt` being on PATH or run a subprocess while
importing (the code servers' PATH need not hold the venv). So the manifest is prepared
explicitly where a command starts (`seatshift refresh`, `seatshift dagster`, `make dagster`), and
`ensure_manifest` re-parses in this process, with dbt's own Python API, only when the manifest is
missing or older than a project file (someone edited a model and started Dagster some other way).
`DbtProject.prepare_if_dev` is not used: it runs `dbt` from PATH, and only under `dagster dev`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path

import duckdb
from dagster_dbt import DbtProject

from orchestration.lib import settings

# The refresh builds the prod target (profiles.yml): its private build file, published after the
# audits. dev, the default for an analyst's `dbt build`, has its own file.
DBT_TARGET = "prod"

_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}
_SKIPPED_FOLDERS = {"target", "dbt_packages", "logs"}


class DbtParseFailed(RuntimeError):
    pass


def month_starts(months: list[str]) -> list[str]:
    """'2026-01' or '2026-01-17' -> '2026-01-01' (the months a refresh re-aggregates); anything
    else is a plain error. The command checks them before a run, the job again."""
    starts = []
    for month in months:
        try:
            day = dt.date.fromisoformat(month if len(month) > 7 else f"{month}-01")
        except ValueError as error:
            raise ValueError(f"rebuild month {month!r} is not YYYY-MM") from error
        starts.append(day.replace(day=1).isoformat())
    return sorted(set(starts))


def _project_files(project_dir: Path) -> list[Path]:
    found = []
    for root, folders, files in os.walk(project_dir):
        folders[:] = sorted(folder for folder in folders if folder not in _SKIPPED_FOLDERS)
        wanted = [name for name in sorted(files) if Path(name).suffix in _PROJECT_FILE_SUFFIXES]
        found += [Path(root, name) for name in wanted]
    return found


def _newest_project_file_mtime(project_dir: Path) -> float:
    return max((os.stat(path).st_mtime for path in _project_files(project_dir)), default=0.0)


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = Path(project.manifest_path)
    if not manifest.exists():
        return True
    return _newest_project_file_mtime(Path(project.project_dir)) > manifest.stat().st_mtime


def parse_in_process(project: DbtProject) -> None:
    """`dbt parse` through dbt's Python API: no PATH, no subprocess.

    A file lock keeps two code servers starting at once (web server and daemon) from writing
    `target/` together; the second finds a fresh manifest once it gets the lock.
    """
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest_is_stale(project):
            return
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(
            [
                "parse",
                "--quiet",
                "--target",
                DBT_TARGET,
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
                "--target-path",
                str(target),
            ]
        )
        if not result.success:
            reason = result.exception or "see dbt's log in the project's logs/ folder"
            raise DbtParseFailed(f"dbt could not parse {project.project_dir}: {reason}")


# Resolved when the definitions load: a refresh builds the project its settings name.
DBT_PROJECT_DIR = settings.dbt_project_dir()
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """Re-parse (in this process) when the manifest is missing or older than a project file."""
    if manifest_is_stale(project):
        parse_in_process(project)
    return Path(project.manifest_path)


# The name under which the dev target attaches the published warehouse (profiles.yml).
PUBLISHED_DATABASE = "published"


def deferral_manifest(manifest_path: Path) -> str:
    """A build's manifest as the dev target sees that build once published: every relation (model,
    seed, source, test) in the database `published`, so dbt's `--defer --state` resolves an
    unselected model to the published warehouse, attached read-only, and `state:modified` compares
    each node with the dev parse of the same code as equal (the sources' database is `published`
    in dev too)."""
    manifest = json.loads(Path(manifest_path).read_text())
    for group in ("nodes", "sources"):
        for node in manifest.get(group, {}).values():
            database = node.get("database")
            if not database or database == PUBLISHED_DATABASE:
                continue
            node["database"] = PUBLISHED_DATABASE
            relation = node.get("relation_name")
            if relation and relation.startswith(f'"{database}".'):
                node["relation_name"] = f'"{PUBLISHED_DATABASE}".' + relation[len(database) + 3 :]
    return json.dumps(manifest)


# Unit tests check the project's code against fixed inputs: their outcome depends on the project's
# files and the engine, never on the warehouse's data. dbt's guidance is to run them in development
# and CI, not in every production build; a refresh runs them whenever the code or the engine is not
# the one they last passed with (a changed model, a new checkout, an upgrade), and skips them
# otherwise. `seatshift refresh --full-refresh` always runs them.
_UNIT_TESTS_PASSED = ".unit_tests_passed"


def code_fingerprint(project: DbtProject = DBT_PROJECT) -> str:
    """sha256 of every project file (path and bytes) and the dbt and DuckDB versions."""
    project_dir = Path(project.project_dir)
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{package}=={version(package)}\n".encode())
    for path in _project_files(project_dir):
        digest.update(f"{path.relative_to(project_dir).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _unit_tests_record(project: DbtProject) -> Path:
    return Path(project.project_dir) / project.target_path / _UNIT_TESTS_PASSED


def unit_tests_passed_for(fingerprint: str, project: DbtProject = DBT_PROJECT) -> bool:
    record = _unit_tests_record(project)
    return record.exists() and record.read_text().strip() == fingerprint


def record_unit_tests_passed(fingerprint: str, project: DbtProject = DBT_PROJECT) -> None:
    record = _unit_tests_record(project)
    staging = record.with_name(f"{record.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # an optimisation only: never fail a refresh for it
        record.parent.mkdir(parents=True, exist_ok=True)
        staging.write_text(fingerprint + "\n")
        os.replace(staging, record)


# The loader only ever appends to the raw tables (a reloaded file is skipped, a changed row is a
# new row that staging de-duplicates), so a raw table with as many rows as before holds the same
# rows: its count stands for its content, and costs DuckDB nothing even at 100M events. The seat
# signs are the one source a refresh rewrites (from the export contract): hashed whole (3 rows).
_REWRITTEN_SOURCES = {"entitlements.seat_event_signs"}


def source_relations(project: DbtProject = DBT_PROJECT) -> list[str]:
    """`schema.table` of every dbt source, from the manifest."""
    manifest = json.loads(Path(project.manifest_path).read_text())
    return sorted(
        f"{source['schema']}.{source['identifier'] or source['name']}"
        for source in manifest["sources"].values()
    )


def build_inputs_key(
    conn: duckdb.DuckDBPyConnection,
    *,
    code: str,
    build_vars: dict,
    project: DbtProject = DBT_PROJECT,
) -> str:
    """sha256 of everything a `dbt build`'s marts depend on: the project's code and engine
    (`code_fingerprint`), the vars, and the rows of every source. Two builds with the same key
    make the same marts (the build is deterministic: tests/orchestration/test_incremental.py),
    so a refresh whose key equals the published build's need not run dbt at all."""
    digest = hashlib.sha256()
    digest.update(f"code {code}\n".encode())
    digest.update(f"vars {json.dumps(build_vars, sort_keys=True, default=str)}\n".encode())
    for relation in source_relations(project):
        try:
            if relation in _REWRITTEN_SOURCES:
                rows = conn.execute(f"select * from {relation} order by all").fetchall()
                state = hashlib.sha256(repr(rows).encode()).hexdigest()
            else:
                (state,) = conn.execute(f"select count(*) from {relation}").fetchone()
        except duckdb.CatalogException:
            state = "absent"
        digest.update(f"{relation} {state}\n".encode())
    return digest.hexdigest()


def docs_inputs_key(conn: duckdb.DuckDBPyConnection, *, code: str, build_vars: dict) -> str:
    """sha256 of everything dbt's docs page shows, taken after a build: the project's code and
    engine (`code_fingerprint`: the manifest, every description, the lineage and exposures), the
    vars, and every column of every relation in the build (the catalog; dbt-duckdb's catalog
    carries no row counts or other statistics). A daily build of unchanged code gives the same
    key, so its page would be the same one (but for the time dbt made it), and is kept."""
    digest = hashlib.sha256()
    digest.update(f"code {code}\n".encode())
    digest.update(f"vars {json.dumps(build_vars, sort_keys=True, default=str)}\n".encode())
    columns = conn.execute(
        """select table_catalog, table_schema, table_name, column_name, ordinal_position,
            data_type, is_nullable
        from information_schema.columns
        where table_schema not in ('information_schema', 'pg_catalog')
        order by all"""
    ).fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()


# dbt's docs pages of earlier builds, by docs_inputs_key, in the project's target folder: a new
# warehouse's first build (a test's, a second demo's, an analyst's copy) whose code, vars and
# relations match an earlier build's gets that page instead of running `dbt docs generate` (about
# 10 s, most of it dbt's start). As with a page kept for a daily build, only the times dbt wrote
# in it and the compiled SQL of an incremental rollup's months can differ. The pages last used
# are kept (about 7 MB each).
_DOCS_PAGES = "docs_pages"
DOCS_PAGES_KEPT = 8


def _docs_pages_dir(project: DbtProject) -> Path:
    return Path(project.project_dir) / project.target_path / _DOCS_PAGES


def cached_docs_page(inputs_key: str, project: DbtProject = DBT_PROJECT) -> Path | None:
    """The docs page an earlier build with this docs_inputs_key made, or None. A page found is
    marked as used now, so the pages kept are the ones last used."""
    page = _docs_pages_dir(project) / f"{inputs_key}.html"
    if not page.is_file():
        return None
    with contextlib.suppress(OSError):
        os.utime(page)
    return page


def cache_docs_page(static_index: Path, inputs_key: str, project: DbtProject = DBT_PROJECT) -> None:
    """Keep this build's docs page for later builds with the same key; the oldest pages beyond
    DOCS_PAGES_KEPT go. Written under a temporary name and renamed, so a reader never meets half
    a page; an optimisation only: never fails a refresh."""
    folder = _docs_pages_dir(project)
    page = folder / f"{inputs_key}.html"
    staging = folder / f".{inputs_key}.{os.getpid()}.partial"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(static_index, staging)
        os.replace(staging, page)
        pages = sorted(folder.glob("*.html"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in pages[DOCS_PAGES_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            staging.unlink(missing_ok=True)


# A seed's column type as dbt writes it in `column_types`, as DuckDB names it.
_SEED_TYPE_ALIASES = {"string": "varchar", "text": "varchar", "int": "integer"}


def _normalised_type(name: str) -> str:
    text = "".join(str(name).lower().split())
    return _SEED_TYPE_ALIASES.get(text, text)


def drop_seeds_with_changed_columns(
    conn: duckdb.DuckDBPyConnection, manifest_path: Path, project_dir: Path
) -> list[str]:
    """Drop each seed table of the build whose columns no longer match its CSV (the header's names
    in order, and the types its `column_types` declare); `schema.table` of those dropped.

    dbt loads a seed that exists by truncating it and copying the CSV into it, so a seed that
    gained or lost a column (a new price-book or price-list column, after an upgrade of the
    project) fails to load until someone runs `dbt seed --full-refresh`. Dropped from the build
    file (never the published one), it is created again from its CSV by the build that follows.
    """
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    dropped: list[str] = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "seed":
            continue
        csv_file = Path(project_dir) / node["original_file_path"]
        if not csv_file.is_file():
            continue
        with open(csv_file, encoding="utf-8", newline="") as handle:
            header = [name.strip().lower() for name in next(csv.reader(handle), [])]
        schema, table = node["schema"], node.get("alias") or node["name"]
        existing = conn.execute(
            """
            select lower(column_name), data_type from information_schema.columns
            where table_schema = ? and table_name = ? and table_catalog = current_database()
            order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
        if not existing:
            continue
        declared = {
            name.lower(): _normalised_type(kind)
            for name, kind in (node.get("config", {}).get("column_types") or {}).items()
        }
        names_differ = [name for name, _ in existing] != header
        types_differ = any(
            name in declared and _normalised_type(kind) != declared[name] for name, kind in existing
        )
        if names_differ or types_differ:
            conn.execute(f'drop table "{schema}"."{table}"')
            dropped.append(f"{schema}.{table}")
    return dropped
