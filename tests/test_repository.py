"""The repository's shape, as a newcomer relies on it: packages imported by their names."""

from __future__ import annotations

import re
import subprocess

from orchestration.lib.settings import REPO_ROOT


def _tracked_python() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def test_no_module_edits_the_import_path():
    """dashboards, bench and orchestration are installed packages: nothing puts a folder on the
    import path, and nothing imports the dashboard's modules under a bare top-level name."""
    needle = "sys" + ".path"  # spelt apart so that this file does not find itself
    edits, bare = [], []
    for name in _tracked_python():
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        if needle in text:
            edits.append(name)
        if re.search(r"^\s*(from lib\b|import lib\b)", text, flags=re.MULTILINE):
            bare.append(name)
    assert len(_tracked_python()) > 100  # the listing itself worked
    assert edits == []
    assert bare == []
