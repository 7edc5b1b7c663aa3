"""The dbt project as Dagster sees it, and a manifest that is never stale.

`@dbt_assets` reads `target/manifest.json` when the definitions load. Under `dagster dev`,
`prepare_if_dev` refreshes it; everywhere else (the `seatshift` command, tests, the daemon) nothing
does (STACK.md), so `ensure_manifest` re-parses when any project file is newer than the manifest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()

_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}
_SKIPPED_FOLDERS = {"target", "dbt_packages", "logs"}


def _newest_project_file_mtime(project_dir: Path) -> float:
    newest = 0.0
    for root, folders, files in os.walk(project_dir):
        folders[:] = [folder for folder in folders if folder not in _SKIPPED_FOLDERS]
        for name in files:
            if Path(name).suffix in _PROJECT_FILE_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    return newest


def manifest_is_stale(project: DbtProject = DBT_PROJECT) -> bool:
    manifest = Path(project.manifest_path)
    if not manifest.exists():
        return True
    return _newest_project_file_mtime(Path(project.project_dir)) > manifest.stat().st_mtime


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project's files."""
    if manifest_is_stale(project):
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [
                str(dbt),
                "parse",
                "--quiet",
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
            ],
            check=True,
            cwd=project.project_dir,
        )
    return Path(project.manifest_path)
