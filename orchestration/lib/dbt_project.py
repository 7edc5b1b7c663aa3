"""The dbt project as Dagster sees it, and a manifest that is never stale.

`@dbt_assets` reads `target/manifest.json` when the definitions load, and the definitions load in
many processes: `seatshift refresh`, the Dagster web server's and the daemon's code servers, a run
launched by the daemon. None of them may rely on `dbt` being on PATH or run a subprocess while
importing (STACK.md: the code servers' PATH need not hold the venv). So the manifest is prepared
explicitly where a command starts (`seatshift refresh`, `seatshift dagster`, `make dagster`), and
`ensure_manifest` re-parses in this process, with dbt's own Python API, only when the manifest is
missing or older than a project file (someone edited a model and started Dagster some other way).
`DbtProject.prepare_if_dev` is not used: it runs `dbt` from PATH, and only under `dagster dev`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.settings import DBT_PROJECT_DIR

_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}
_SKIPPED_FOLDERS = {"target", "dbt_packages", "logs"}


class DbtParseFailed(RuntimeError):
    pass


def _newest_project_file_mtime(project_dir: Path) -> float:
    newest = 0.0
    for root, folders, files in os.walk(project_dir):
        folders[:] = [folder for folder in folders if folder not in _SKIPPED_FOLDERS]
        for name in files:
            if Path(name).suffix in _PROJECT_FILE_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    return newest


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


DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """Re-parse (in this process) when the manifest is missing or older than a project file."""
    if manifest_is_stale(project):
        parse_in_process(project)
    return Path(project.manifest_path)
