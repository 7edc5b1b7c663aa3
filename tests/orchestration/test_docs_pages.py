"""The project's cache of dbt docs pages: a new warehouse whose code, vars and relations match an
earlier build's gets that build's page instead of a `dbt docs generate` (about 10 s a refresh).
The refresh's use of it is checked on a real refresh in tests/warehouse/test_projection.py."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib import dbt_project
from orchestration.lib.dbt_project import DOCS_PAGES_KEPT, cache_docs_page, cached_docs_page


def _project(tmp_path: Path) -> DbtProject:
    # a project folder of its own, so the repository's target/ is left alone; target_path is
    # all the cache reads of it
    project = tmp_path / "project"
    project.mkdir()
    return type("Project", (), {"project_dir": str(project), "target_path": "target"})()


def test_a_page_is_found_by_its_key_and_only_by_it(tmp_path):
    project = _project(tmp_path)
    made = tmp_path / "static_index.html"
    made.write_text("<html>page of key a</html>")
    assert cached_docs_page("a" * 64, project) is None
    cache_docs_page(made, "a" * 64, project)
    page = cached_docs_page("a" * 64, project)
    assert page is not None and page.read_text() == "<html>page of key a</html>"
    assert cached_docs_page("b" * 64, project) is None
    # nothing but the page is left in the folder (no partial copy)
    assert [path.name for path in page.parent.iterdir()] == [f"{'a' * 64}.html"]


def test_the_pages_last_used_are_kept_and_the_others_go(tmp_path):
    project = _project(tmp_path)
    made = tmp_path / "static_index.html"
    made.write_text("<html></html>")
    keys = [f"{number:064d}" for number in range(DOCS_PAGES_KEPT + 2)]
    folder = Path(project.project_dir) / "target" / dbt_project._DOCS_PAGES
    for age, key in enumerate(keys):
        cache_docs_page(made, key, project)
        # one second apart, oldest first, whatever the filesystem's time resolution
        os.utime(folder / f"{key}.html", (1_000_000 + age, 1_000_000 + age))
    cache_docs_page(made, keys[-1], project)  # prunes: the newest DOCS_PAGES_KEPT stay
    kept = sorted(path.stem for path in folder.glob("*.html"))
    assert kept == sorted(keys[-DOCS_PAGES_KEPT:])
    # a page found is used now: the oldest kept page survives the next page made
    assert cached_docs_page(keys[-DOCS_PAGES_KEPT], project) is not None
    cache_docs_page(made, "f" * 64, project)
    kept = {path.stem for path in folder.glob("*.html")}
    assert keys[-DOCS_PAGES_KEPT] in kept and keys[-DOCS_PAGES_KEPT + 1] not in kept
    assert len(kept) == DOCS_PAGES_KEPT


def test_a_page_that_cannot_be_kept_fails_nothing(tmp_path):
    project = _project(tmp_path)
    # the cache folder's place is taken by a file: the copy fails, quietly, and leaves nothing
    (Path(project.project_dir) / "target").write_text("not a folder")
    made = tmp_path / "static_index.html"
    made.write_text("<html></html>")
    cache_docs_page(made, "a" * 64, project)
    assert cached_docs_page("a" * 64, project) is None
