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


# Documents a reader of the repository does not have, and issue numbers, which say nothing to them.
OUTSIDE = re.compile(
    r"\.\./shared|(?<![\w-])(DOMAIN|STACK|DASHBOARD|CONVENTIONS|interfaces)\.md"
    r"|contracts/(exports|price_book)\.md|\bissues? #?\d+\b",
    flags=re.IGNORECASE,
)
TEXT_SUFFIXES = (".py", ".sql", ".md", ".yml", ".yaml", ".toml", ".txt", ".example", ".cfg")


def _tracked_text() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return [
        name
        for name in listed.stdout.split()
        if name.endswith(TEXT_SUFFIXES) or name in ("Makefile", ".ci/run")
    ]


def test_nothing_cites_a_document_outside_the_repository_or_an_issue():
    found = []
    for name in _tracked_text():
        if name == "tests/test_repository.py":
            continue
        for number, line in enumerate((REPO_ROOT / name).read_text(encoding="utf-8").splitlines()):
            if OUTSIDE.search(line):
                found.append(f"{name}:{number + 1}: {line.strip()[:80]}")
    # the net holds (the number is joined on so that this file itself cites no issue)
    assert OUTSIDE.search("see DOMAIN.md") and OUTSIDE.search("(issue " + "12)")
    assert found == []


def test_every_relative_link_of_the_docs_leads_to_a_file_of_the_repository():
    broken = []
    for name in _tracked_text():
        if not name.endswith(".md"):
            continue
        path = REPO_ROOT / name
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address, or a place on the same page
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if not resolved.is_relative_to(REPO_ROOT) or not resolved.exists():
                broken.append(f"{name}: {target}")
    assert broken == []


def test_the_changelogs_latest_version_is_the_packages():
    import tomllib

    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\d+\.\d+\.\d+) \((\d{4}-\d{2}-\d{2})\)$", changelog, re.MULTILINE)
    assert first is not None, "CHANGELOG.md's versions are '## X.Y.Z (YYYY-MM-DD)'"
    assert first.group(1) == version


def test_a_models_not_null_is_a_constraint_not_a_data_test():
    """docs/warehouse.md: on every model, not null is a `not_null` constraint, which DuckDB
    enforces as a mart is written and the post-hook every model carries checks elsewhere; a
    not_null data test beside it would be one more dbt node in every build (about 60 ms each on
    DuckDB, a Spark job on Spark) checking the same thing."""
    import yaml

    tested = []
    for path in sorted((REPO_ROOT / "dbt_project" / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                tests = column.get("data_tests") or column.get("tests") or []
                names = [test if isinstance(test, str) else next(iter(test)) for test in tests]
                if "not_null" in names:
                    tested.append(f"{model['name']}.{column['name']}")
    assert tested == []
