"""The `seatshift` command: generate exports, refresh, serve the dashboard, the docs and Dagster,
and write the decision pack and the paper invoice. One module a command (or two that share their
code); each registers its arguments and names the function that runs it."""

from __future__ import annotations

import argparse

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
    parser = argparse.ArgumentParser(prog="seatshift", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.handler(args)
