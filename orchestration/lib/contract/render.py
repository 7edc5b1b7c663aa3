"""The files rendered from the contract: the dbt sources of the raw layer (one
`_<schema>__sources.yml` a raw schema) and the exports' reference (docs/exports.md).

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
    LINEAGE_COLUMNS,
    LINEAGE_DESCRIPTIONS,
    LOADED,
    SCHEMAS,
)
from orchestration.lib.contract.rules import SEAT_SIGN, SEAT_SIGN_DESCRIPTION, SEAT_SIGN_TABLE
from orchestration.lib.settings import REPO_ROOT

STAGING = Path("dbt_project") / "models" / "staging"
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
            "    # dev reads the published raw layer, attached read-only (profiles.yml)",
            "    database: \"{{ 'published' if target.name == 'dev' else target.database }}\"",
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


def rendered() -> dict[Path, str]:
    """Every file this module owns, by its path under the repository."""
    return dbt_sources()


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
