"""Every dashboard page is a dbt exposure whose depends_on are the marts the page reads.

The exposures come from the dbt manifest (dbt resolved their refs); what each page reads is worked
out from the dashboard's code (tests/dashboards/_page_marts.py), so a page that starts reading a
mart, or stops, fails here until its exposure says so.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from orchestration.lib.dbt_project import ensure_manifest
from tests.dashboards import _page_marts
from tests.dashboards._page_marts import marts_by_page, marts_read_by, pages

PROJECT = "seatshift"


@pytest.fixture(scope="module")
def exposures() -> dict[str, dict]:
    manifest = json.loads(ensure_manifest().read_text())
    return {
        exposure["name"]: exposure
        for exposure in manifest["exposures"].values()
        if exposure["package_name"] == PROJECT
    }


def _marts_of(exposure: dict) -> set[str]:
    prefix = f"model.{PROJECT}."
    return {node.removeprefix(prefix) for node in exposure["depends_on"]["nodes"]}


def test_every_dashboard_page_is_a_dashboard_exposure_at_its_url(exposures):
    registered = {page.name: page for page in pages()}
    assert set(exposures) == set(registered), "one exposure per page of streamlit_app.PAGES"
    for name, page in registered.items():
        exposure = exposures[name]
        assert exposure["type"] == "dashboard"
        assert exposure["label"] == page.title
        assert exposure["url"] == page.url
        assert exposure["owner"]["name"] or exposure["owner"]["email"]


def test_every_exposure_depends_on_exactly_the_marts_its_page_reads(exposures):
    read = marts_by_page()
    differences = {}
    for name, marts in read.items():
        listed = _marts_of(exposures[name])
        if listed != marts:
            differences[name] = {
                "read but not in depends_on": sorted(marts - listed),
                "in depends_on but not read": sorted(listed - marts),
            }
    assert not differences, (
        "exposures (dbt_project/models/marts/_dashboard__exposures.yml) disagree with the pages: "
        f"{json.dumps(differences, indent=2)}"
    )


def test_exposures_depend_on_marts_only(exposures):
    for exposure in exposures.values():
        for node in exposure["depends_on"]["nodes"]:
            assert node.startswith(f"model.{PROJECT}."), node
        assert exposure["fqn"][1] == "marts", "dashboards read marts only"


def test_page_analysis_follows_lib_functions_to_the_sql(tmp_path, monkeypatch):
    """The analysis is not vacuous: a mart named in the SQL of a queries subject module's function,
    reached through the package's re-export and another lib module's function, counts; one in an
    unreferenced function does not."""
    lib = tmp_path / "lib"
    (lib / "queries").mkdir(parents=True)
    (lib / "queries" / "__init__.py").write_text("from .subject import unused, used\n")
    (lib / "queries" / "_core.py").write_text("def _read(what, sql):\n    return sql\n")
    (lib / "queries" / "subject.py").write_text(
        textwrap.dedent(
            """
            from ._core import _read

            INPUTS = {"a": "select * from published.marts.fct_constant"}

            def used():
                return _read("x", "select * from marts.fct_used") + INPUTS["a"]

            def unused():
                return _read("y", "select * from marts.fct_unused")
            """
        )
    )
    helpers = "from dashboards.lib import queries\n\ndef helper():\n    queries.used()\n"
    (lib / "helpers.py").write_text(helpers)
    page = tmp_path / "page.py"
    page.write_text(
        "from dashboards.lib.helpers import helper\nfrom dashboards.lib.layout import guarded\n"
        "helper()\n"
    )
    monkeypatch.setattr(_page_marts, "DASHBOARDS_DIR", tmp_path)

    assert marts_read_by([page]) == {"fct_used", "fct_constant"}


def test_the_real_pages_read_what_their_queries_say():
    """Spot checks against the code as it is: the invoice explainer's evidence, and the header's
    as-of time on every page (the router draws it)."""
    read = marts_by_page()
    assert {"fct_invoice_line_evidence", "fct_invoice_checks"} <= read["billing_integrity"]
    assert all("rpt_data_as_of" in marts for marts in read.values())
