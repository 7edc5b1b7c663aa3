"""The files rendered from the contract: the dbt sources of the raw layer (one
`_<schema>__sources.yml` a raw schema) and the exports' reference (docs/exports.md, its prose
from exports_doc.md beside this module).

    python -m orchestration.lib.contract.render          # write them (`make contract`)
    python -m orchestration.lib.contract.render --check  # exit 1 naming any file that differs

The contract is the truth; these files are never edited by hand, and a test fails when one of
them differs from what this module renders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orchestration.lib.contract.exports import (
    EXPORTS,
    FILE_EXTENSIONS,
    LINEAGE_COLUMNS,
    LINEAGE_DESCRIPTIONS,
    LOAD_ORDER,
    LOADED,
    SCHEMAS,
    Column,
    Export,
)
from orchestration.lib.contract.rules import (
    IMPLAUSIBLE_TIME,
    MALFORMED_ROW,
    SEAT_SIGN,
    SEAT_SIGN_DESCRIPTION,
    SEAT_SIGN_TABLE,
    VALUE_RULE_KINDS,
    cross_row_rules,
)
from orchestration.lib.settings import REPO_ROOT

STAGING = Path("dbt_project") / "models" / "staging"
EXPORTS_DOC = Path("docs") / "exports.md"
EXPORTS_TEMPLATE = Path(__file__).with_name("exports_doc.md")
GENERATED = "# Rendered from orchestration/lib/contract by `make contract`: do not edit by hand."


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _column(name: str, data_type: str, description: str) -> list[str]:
    return [
        f"          - name: {name}",
        f"            data_type: {data_type}",
        f"            description: {_quoted(description)}",
    ]


def _seat_sign_table() -> list[str]:
    values = ", ".join(str(sign) for sign in sorted(set(SEAT_SIGN.values()), reverse=True))
    return [
        f"      - name: {SEAT_SIGN_TABLE.split('.')[1]}",
        f"        description: {_quoted(SEAT_SIGN_DESCRIPTION)}",
        "        columns:",
        *_column("event_type", "varchar", "A seat event type of the seat_events export."),
        "            data_tests: [unique, not_null]",
        *_column("seat_sign", "integer", "+1 (adds seats), -1 (removes them) or 0 (moves none)."),
        "            data_tests:",
        "              - not_null",
        f"              - accepted_values: {{arguments: {{values: [{values}], quote: false}}}}",
    ]


def dbt_sources() -> dict[Path, str]:
    """Each raw schema's sources file, by its path under the repository."""
    files = {}
    for schema, about in SCHEMAS.items():
        lines = [
            GENERATED,
            "version: 2",
            "",
            "sources:",
            f"  - name: {schema}",
            f"    schema: {schema}",
            "    # dev reads the published raw layer, attached read-only (profiles.yml); Spark has"
            " no",
            "    # database above a schema (dbt-spark takes the schema's name for it)",
            "    database: \"{{ 'published' if target.name == 'dev' else (target.database or "
            f"'{schema}') }}}}\"",
            f"    description: {_quoted(f'{about} {LOADED}')}",
            "    tables:",
        ]
        for export in EXPORTS.values():
            if export.schema != schema:
                continue
            lines += [
                f"      - name: {export.table}",
                f"        description: {_quoted(export.description)}",
                "        columns:",
            ]
            for column in export.columns:
                lines += _column(column.name, column.raw_type, column.description)
            for name, data_type in LINEAGE_COLUMNS.items():
                lines += _column(name, data_type, LINEAGE_DESCRIPTIONS[name])
        if SEAT_SIGN_TABLE.split(".")[0] == schema:
            lines += _seat_sign_table()
        files[STAGING / schema / f"_{schema}__sources.yml"] = "\n".join(lines) + "\n"
    return files


def _rules_of_column(column: Column) -> str:
    said = []
    if column.allowed:
        said.append("one of " + ", ".join(f"`{value}`" for value in column.allowed))
    if column.minimum is not None:
        said.append(f">= {column.minimum:g}")
    if column.exclusive_minimum is not None:
        said.append(f"> {column.exclusive_minimum:g}")
    if column.pattern:
        said.append(f"matches `{column.pattern}`")
    if column.default is not None:
        said.append(f"empty means {column.default}")
    if column.optional:
        said.append("optional column")
    return "; ".join(said)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _export_section(export: Export) -> str:
    facts = [
        f"files `{export.name}__*`",
        f"raw table `{export.relation}`",
        "key " + ", ".join(f"`{name}`" for name in export.key),
        "latest version wins (by `updated_at`)"
        if export.latest_wins_by
        else "append-only (the first delivery of a key wins)",
    ]
    if export.optional_export:
        facts.append("optional export")
    if export.depends_on:
        facts.append("looks up " + ", ".join(f"`{name}`" for name in export.depends_on))
    lines = [
        f"### `{export.name}`",
        "",
        export.description,
        "",
        "- " + "; ".join(facts) + ".",
        "",
        "| column | type | required | rules | meaning |",
        "|---|---|---|---|---|",
    ]
    for column in export.columns:
        lines.append(
            f"| `{column.name}` | {column.type} | {'yes' if column.required else ''} | "
            f"{_cell(_rules_of_column(column))} | {_cell(column.description)} |"
        )
    between = cross_row_rules(export.name)
    if between:
        lines += ["", "Rules between rows and exports (a row breaking one is quarantined):", ""]
        lines += [f"- `{rule.name}`: {rule.description}." for rule in between]
    return "\n".join(lines)


def exports_doc() -> str:
    """docs/exports.md: the prose of exports_doc.md with the contract's tables filled in."""
    template = EXPORTS_TEMPLATE.read_text(encoding="utf-8")
    text = template.format(
        extensions=", ".join(f"`{extension}`" for extension in FILE_EXTENSIONS),
        load_order=", ".join(f"`{name}`" for name in LOAD_ORDER),
        exports="\n\n".join(_export_section(export) for export in EXPORTS.values()),
        value_rules="\n".join(
            f"- `{kind}`: {meaning}." for kind, meaning in VALUE_RULE_KINDS.items()
        ),
        malformed=MALFORMED_ROW.name,
        malformed_description=MALFORMED_ROW.description,
        implausible=IMPLAUSIBLE_TIME.name,
        implausible_description=IMPLAUSIBLE_TIME.description,
        implausible_columns=", ".join(f"`{name}`" for name in IMPLAUSIBLE_TIME.columns),
        lineage="\n".join(
            f"- `{name}` ({data_type}): {LINEAGE_DESCRIPTIONS[name]}"
            for name, data_type in LINEAGE_COLUMNS.items()
        ),
    )
    generated = GENERATED.replace("# ", "<!-- ", 1) + " -->"
    return f"{generated}\n\n{text}"


def rendered() -> dict[Path, str]:
    """Every file this module owns, by its path under the repository."""
    return {**dbt_sources(), EXPORTS_DOC: exports_doc()}


def differences(root: Path = REPO_ROOT) -> list[Path]:
    """The rendered files whose text on disk differs from what the contract renders."""
    return [
        path
        for path, text in rendered().items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; 1 on a difference")
    args = parser.parse_args(argv)
    stale = differences()
    if args.check:
        for path in stale:
            print(f"{path} differs from the contract: run `make contract`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered().items():
        (REPO_ROOT / path).write_text(text, encoding="utf-8")
    print(f"rendered {len(rendered())} files from the contract ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
