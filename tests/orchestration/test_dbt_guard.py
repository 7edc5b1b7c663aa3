"""`seatshift-dbt`, the guard dagster-dbt runs instead of dbt: it answers `--version` itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from orchestration.lib.settings import REPO_ROOT

BIN = Path(sys.executable).parent


def test_the_guard_names_the_same_dbt_version_as_dbt_itself():
    # dagster-dbt reads the first x.y.z of `<executable> --version` as the dbt version; the guard
    # must name the version dbt itself reports, without the seconds dbt takes to say it.
    ours = subprocess.run(
        [str(BIN / "seatshift-dbt"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    theirs = subprocess.run(
        [str(BIN / "dbt"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT / "dbt_project",
    ).stdout
    version = re.compile(r"(\d+\.\d+\.\d+)")
    assert version.search(ours).group(1) == version.search(theirs).group(1)
    assert re.search(r"duckdb: (\d+\.\d+\.\d+)", ours).group(1) == re.search(
        r"duckdb: (\d+\.\d+\.\d+)", theirs
    ).group(1)
