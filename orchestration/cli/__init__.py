"""The `seatshift` command: generate exports, refresh, serve the dashboard, the docs and Dagster,
and write the decision pack and the paper invoice. One module a command (or two that share their
code); each registers its arguments and names the function that runs it."""

from __future__ import annotations

import argparse
import warnings

from orchestration.cli import (
    check,
    dagster,
    dashboard,
    docs,
    documents,
    generate,
    importing,
    rate,
    refresh,
)

COMMANDS = (generate, importing, check, refresh, rate, dashboard, documents, docs, dagster)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seatshift",
        description="generate exports, refresh the warehouse, serve the dashboard, the docs and "
        "Dagster, and write the decision pack and the paper invoice",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # With the Spark extra installed, the libraries that look for pyspark import it, and pyspark
    # warns about the pandas version on every command, Spark or not: the Spark build is tested
    # with this pandas (make test-spark), so the warning says nothing to the reader.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    args = _parser().parse_args(argv)
    return args.handler(args)
