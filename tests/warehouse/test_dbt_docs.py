"""dbt's docs site: made by a refresh's dbt step, published beside the warehouse with its build,
and never left behind (or shown) for a build that did not publish."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.lib import docs_site, settings, warehouse
from tests.dashboards._page_marts import pages

MANIFEST_MARK = '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest'
CATALOG_MARK = '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog'


def _inline_json(page: str, mark: str) -> dict:
    """The manifest or catalog dbt's static page carries inline."""
    start = page.index(mark)
    document, _ = json.JSONDecoder().raw_decode(page, start)
    return document


def test_a_refresh_publishes_the_dbt_docs_of_its_build_beside_the_warehouse(sample_refresh):
    published = sample_refresh.warehouse
    index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
    assert index.is_file()
    assert f"dbt docs of this build: {index}" in sample_refresh.stdout
    page = index.read_text(encoding="utf-8")
    manifest = _inline_json(page, MANIFEST_MARK)
    catalog = _inline_json(page, CATALOG_MARK)

    # the lineage runs to every page of the dashboard
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {p.name for p in pages()}
    assert "model.seatshift.fct_account_month" in exposures["overview"]["depends_on"]["nodes"]
    # the build's own manifest: compiled SQL, not just the parse (the step runs --no-compile)
    model = manifest["nodes"]["model.seatshift.fct_account_month"]
    assert model["compiled_code"] and model["columns"]["account_id"]["description"]
    # the catalog is of the relations as built in this warehouse
    with duckdb.connect(str(published), read_only=True) as conn:
        marts = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    documented = {
        node["metadata"]["name"]
        for node in catalog["nodes"].values()
        if node["metadata"]["schema"] == "marts"
    }
    assert documented == marts
    # nothing of the build is left in the build folder
    assert not list(settings.build_dir(published).iterdir())


def test_a_refresh_publishes_the_data_docs_of_its_validations_with_its_build(sample_refresh):
    """The GX checks wrote each export's site into the build folder; publish moved them beside
    the warehouse, named after it, with one page over all."""
    from orchestration.lib.contract import EXPORTS

    site = settings.data_docs_dir(sample_refresh.warehouse)
    assert site == sample_refresh.warehouse.with_name("seatshift.duckdb.data_docs")
    assert {path.name for path in site.iterdir() if path.is_dir()} == set(EXPORTS)
    assert all((site / export / "index.html").is_file() for export in EXPORTS)
    index = (site / "index.html").read_text()
    assert all(export.relation in index for export in EXPORTS.values())
    assert not list(settings.build_dir(sample_refresh.warehouse).iterdir())


def _data_docs_site(folder: Path, export: str, text: str) -> None:
    (folder / export).mkdir(parents=True)
    (folder / export / "index.html").write_text(text)
    summary = {"export": export, "relation": f"x.{export}", "refresh_id": "r", "success": True,
               "validated_at": "now", "critical_failures": [], "warnings": []}  # fmt: skip
    (folder / export / docs_site.OUTCOME_FILE).write_text(json.dumps(summary))


def test_data_docs_of_a_failed_build_never_reach_readers_and_a_published_one_replaces_its_exports(
    tmp_path,
):
    published = tmp_path / "seatshift.duckdb"
    site = settings.data_docs_dir(published)
    _data_docs_site(site, "plans", "plans as published")
    _data_docs_site(site, "accounts", "accounts as published")

    build = _tiny_build(published)
    _data_docs_site(warehouse.staged_data_docs_path(build), "plans", "plans of a failed build")
    warehouse.discard_build(build)  # a failed refresh's teardown
    assert (site / "plans" / "index.html").read_text() == "plans as published"
    assert not list(settings.build_dir(published).iterdir())

    build = _tiny_build(published)
    _data_docs_site(warehouse.staged_data_docs_path(build), "plans", "plans of the new build")
    warehouse.publish_build(build, published)
    assert (site / "plans" / "index.html").read_text() == "plans of the new build"
    # An export this build did not validate anew (no new rows) keeps its site.
    assert (site / "accounts" / "index.html").read_text() == "accounts as published"
    assert "x.plans" in (site / "index.html").read_text()
    assert sorted(path.name for path in site.iterdir()) == ["accounts", "index.html", "plans"]
    assert not list(settings.build_dir(published).iterdir())


def _tiny_build(published: Path) -> Path:
    build = warehouse.build_path(published)
    build.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build)) as conn:
        conn.execute("create table marts_stand_in as select 1 as x")
    return build


def _previous_site(published: Path) -> Path:
    index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
    index.parent.mkdir(parents=True)
    index.write_text("the docs of the published build")
    return index


def test_staged_docs_replace_the_site_only_when_their_build_publishes(tmp_path):
    published = tmp_path / "seatshift.duckdb"
    index = _previous_site(published)
    build = _tiny_build(published)
    static_page = tmp_path / "static_index.html"
    static_page.write_text("the docs of the new build")

    warehouse.stage_docs(build, static_page)
    assert index.read_text() == "the docs of the published build"  # staged: readers see no change

    warehouse.publish_build(build, published)
    assert index.read_text() == "the docs of the new build"
    assert not list(settings.build_dir(published).iterdir())


def test_a_discarded_build_takes_its_docs_with_it(tmp_path):
    published = tmp_path / "seatshift.duckdb"
    index = _previous_site(published)
    build = _tiny_build(published)
    static_page = tmp_path / "static_index.html"
    static_page.write_text("the docs of a build that failed its checks")
    warehouse.stage_docs(build, static_page)

    warehouse.discard_build(build)  # what a failed refresh's teardown does

    assert index.read_text() == "the docs of the published build"
    assert not list(settings.build_dir(published).iterdir())


def test_a_killed_refresh_leaves_no_docs_for_the_next_one(tmp_path):
    """Killed after staging its docs (or mid-copy): the next refresh's recovery removes both."""
    published = tmp_path / "seatshift.duckdb"
    index = _previous_site(published)
    build = _tiny_build(published)
    static_page = tmp_path / "static_index.html"
    static_page.write_text("the docs of a build that never published")
    staged = warehouse.stage_docs(build, static_page)
    staged.with_name(staged.name + ".partial").write_text("half a copy")
    warehouse.mark_in_flight(published, "killed-refresh", warehouse.utc_now())

    record = warehouse.recover_interrupted(published)

    assert record is not None and record["refresh_id"] == "killed-refresh"
    assert not list(settings.build_dir(published).iterdir())
    assert index.read_text() == "the docs of the published build"
