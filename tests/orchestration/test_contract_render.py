"""The files rendered from the export contract are what the contract renders today."""

from __future__ import annotations

import dataclasses

import yaml

from orchestration.lib.contract import EXPORTS, LINEAGE_COLUMNS, render
from orchestration.lib.contract import exports as contract_exports


def test_the_dbt_sources_and_docs_exports_md_are_rendered_from_the_contract():
    assert render.differences() == [], "run `make contract` and commit the result"


def test_every_export_column_and_type_reaches_the_sources():
    tables = {}
    for text in render.dbt_sources().values():
        for source in yaml.safe_load(text)["sources"]:
            for table in source["tables"]:
                tables[f"{source['name']}.{table['name']}"] = {
                    column["name"]: column["data_type"] for column in table["columns"]
                }
    for export in EXPORTS.values():
        expected = {column.name: column.raw_type for column in export.columns}
        assert tables[export.relation] == expected | LINEAGE_COLUMNS


def test_an_edit_of_the_contract_shows_as_a_difference(monkeypatch):
    accounts = EXPORTS["accounts"]
    renamed = dataclasses.replace(accounts, description="Edited in the contract only.")
    monkeypatch.setitem(contract_exports.EXPORTS, "accounts", renamed)
    assert sorted(path.name for path in render.differences()) == ["_crm__sources.yml", "exports.md"]


def test_docs_exports_md_names_every_export_column_and_rule():
    from orchestration.lib.contract import rules_of

    text = render.exports_doc()
    for export in EXPORTS.values():
        assert f"### `{export.name}`" in text
        for column in export.columns:
            assert f"| `{column.name}` | {column.type} |" in text
        for rule in rules_of(export.name):
            name = rule.name.split(":")[0]  # a value rule by its kind
            assert f"`{name}`" in text, rule.name
