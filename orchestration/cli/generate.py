"""`seatshift generate`: a synthetic vendor's exports, for the demo, the tests and the bench."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from orchestration.cli.progress import say_progress


def register(commands) -> None:
    generate = commands.add_parser("generate", help="write a synthetic vendor's exports")
    generate.add_argument("--out", required=True, help="folder to write the export files into")
    generate.add_argument(
        "--accounts", type=int, default=300, help="accounts, at least 2 (default 300)"
    )
    generate.add_argument(
        "--months", type=int, default=24, help="months of history, at least 2 (default 24)"
    )
    generate.add_argument(
        "--start",
        default="2024-11",
        help="first month, YYYY-MM (default 2024-11); whole months are written",
    )
    generate.add_argument(
        "--seed", type=int, default=7, help="the same seed writes the same bytes (default 7)"
    )
    generate.add_argument(
        "--format",
        choices=["csv", "parquet", "jsonl"],
        default="csv",
        help="file format (default csv)",
    )
    generate.add_argument(
        "--usage-per-seat-day",
        type=float,
        default=1.0,
        help="scales the usage events: about this many per seat and day (default 1.0)",
    )
    generate.add_argument(
        "--no-pilot",
        dest="pilot",
        action="store_false",
        help="write no price_model_assignments export (by default: a pilot and its control)",
    )
    generate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.lib.generator import generate
    from orchestration.lib.generator.core import check_arguments

    try:
        check_arguments(
            accounts=args.accounts,
            months=args.months,
            start=args.start,
            fmt=args.format,
            usage_per_seat_day=args.usage_per_seat_day,
        )
    except ValueError as error:
        print(f"generate refused: {error}; nothing was written", file=sys.stderr)
        return 2
    _warn_of_future_months(args.start, args.months)
    out = Path(args.out)
    began = time.monotonic()
    say_progress(began, f"generating the demo company's exports into {out}")
    existed = out.exists()
    try:
        summary = generate(
            out,
            accounts=args.accounts,
            months=args.months,
            start=args.start,
            seed=args.seed,
            fmt=args.format,
            usage_per_seat_day=args.usage_per_seat_day,
            pilot=args.pilot,
            progress=lambda text: say_progress(began, text),
        )
    except ValueError as error:
        if not existed and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # the folder it made for the files it did not write
        print(f"generate refused: {error}; nothing was written", file=sys.stderr)
        return 2
    counts = summary.get("row_counts", {})
    print(f"wrote {sum(counts.values()):,} rows of {len(counts)} exports into {out}")
    for export, rows in counts.items():
        print(f"  {export:<23} {rows:>12,}")
    return 0


def _warn_of_future_months(start: str, months: int) -> None:
    """Say so when the history runs into this month or past it: the generator writes whole
    months, and a refresh quarantines the rows dated after now (the export contract's plausible
    window), so the days still to come would read as a quarantine."""
    from orchestration.lib.generator.calendar import add_months, month_start

    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = this_month.replace(tzinfo=None)
    last = month_start(start, months - 1)
    if last < this_month:
        return
    ahead = min(months, (last.year - this_month.year) * 12 + last.month - this_month.month + 1)
    latest = add_months(this_month, -months)
    print(
        f"note: {ahead} of the {months} months (to {last:%Y-%m}) are not over yet; "
        "a refresh quarantines rows dated after now as implausible. "
        f"`--start {latest:%Y-%m}` ends the history last month, the latest whole month.",
        file=sys.stderr,
    )
