"""`seatshift check`: a dry run of the load over a landing folder; builds and changes nothing."""

from __future__ import annotations

import argparse
import sys

from orchestration.lib import settings
from orchestration.lib.contract.audit import LOADED, REJECTED, SKIPPED

# What each load status means before the load.
SAID = {LOADED: "would load", SKIPPED: "already loaded", REJECTED: "rejected"}


def register(commands) -> None:
    check = commands.add_parser(
        "check", help="a dry run over a landing folder: what a refresh would load, and why not"
    )
    check.add_argument("--landing", help=f"landing folder (default {settings.DEFAULT_LANDING})")
    check.add_argument(
        "--warehouse",
        help="judge against this warehouse's loaded rows, as a refresh of it would "
        f"(default {settings.DEFAULT_WAREHOUSE}; none there: against an empty one)",
    )
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.lib.lake import MissingParts
    from orchestration.lib.loader.dry_run import dry_run

    landing = settings.landing_dir(settings.from_here(args.landing))
    published = settings.warehouse_path(settings.from_here(args.warehouse))
    if not landing.is_dir():
        print(f"check failed: the landing folder {landing} does not exist", file=sys.stderr)
        return 2
    against = published if published.exists() else None
    try:
        verdicts = dry_run(landing, against)
    except MissingParts as error:
        print(f"check failed: {error}", file=sys.stderr)
        return 2
    print(
        f"dry run of {landing} against "
        + (f"the warehouse {published}" if against else "an empty warehouse")
        + " (nothing is built or changed)"
    )
    print(_table(verdicts))
    rejected = [verdict for verdict in verdicts if verdict.rejected]
    totals = {
        name: sum(getattr(verdict.report, name) for verdict in verdicts)
        for name in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined")
    }
    print(
        f"{len(verdicts)} file(s): {totals['rows_read']:,} rows read, "
        f"{totals['rows_loaded']:,} would load, {totals['rows_duplicate']:,} duplicate, "
        f"{totals['rows_quarantined']:,} quarantined; {len(rejected)} file(s) would be rejected"
    )
    if against is None:
        # a first load: say which exports the warehouse needs and no file in the folder brings
        from orchestration.lib.contract import EXPORTS

        delivered = {verdict.report.export for verdict in verdicts if not verdict.rejected}
        missing = [
            name
            for name, export in EXPORTS.items()
            if not export.optional_export and name not in delivered
        ]
        if missing:
            print(
                f"note: no file of the required export(s) {', '.join(missing)}: a first refresh "
                "builds without them, and every figure that needs them stays empty "
                "(docs/exports.md lists what each export holds)"
            )
    for verdict in rejected:
        print(f"rejected: {verdict.report.message}", file=sys.stderr)
    return 1 if rejected else 0


def _table(verdicts) -> str:
    header = ("file", "export", "status", "read", "load", "duplicate", "quarantined", "months")
    rows = [header]
    notes = []
    for verdict in verdicts:
        report = verdict.report
        months = (
            f"{verdict.first_month:%Y-%m}..{verdict.last_month:%Y-%m}"
            if verdict.first_month
            else ""
        )
        rows.append(
            (
                report.file_name,
                report.export or "?",
                SAID.get(report.status, report.status),
                f"{report.rows_read:,}",
                f"{report.rows_loaded:,}",
                f"{report.rows_duplicate:,}",
                f"{report.rows_quarantined:,}",
                months,
            )
        )
        if verdict.rules:
            by_rule = ", ".join(f"{rule} {count:,}" for rule, count in verdict.rules.items())
            notes.append(f"  {report.file_name}: quarantined by rule: {by_rule}")
        if report.message and not verdict.rejected:
            notes.append(f"  {report.file_name}: {report.message}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines + notes)
