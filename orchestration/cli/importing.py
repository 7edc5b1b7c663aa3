"""`seatshift import stripe`: a billing system's own export written as the contract's exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.lib import settings


def register(commands) -> None:
    importing = commands.add_parser(
        "import", help="write the contract's exports from a billing system's own export"
    )
    sources = importing.add_subparsers(dest="source", required=True)
    stripe = sources.add_parser(
        "stripe",
        help="a Stripe account's objects (JSON lines, as the API returns them) into exports",
    )
    stripe.add_argument(
        "--from",
        dest="source_dir",
        required=True,
        help="folder of customers*.jsonl, prices*.jsonl, subscriptions*.jsonl, invoices*.jsonl, "
        "events*.jsonl",
    )
    stripe.add_argument(
        "--to", dest="landing", help=f"landing folder (default {settings.DEFAULT_LANDING})"
    )
    stripe.add_argument(
        "--segment-key",
        help="the customer metadata key that holds the segment (default: the setting "
        "SEATSHIFT_STRIPE_SEGMENT_KEY, else segment)",
    )
    stripe.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.lib.importers import stripe

    landing = settings.landing_dir(settings.from_here(args.landing))
    try:
        result = stripe.import_stripe(
            Path(args.source_dir), landing, args.segment_key or settings.stripe_segment_key()
        )
    except (stripe.StripeImportError, OSError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 2
    read = ", ".join(f"{count} {kind}" for kind, count in result.read.items())
    print(f"read {read} from {args.source_dir}")
    written = ", ".join(f"{export} {count}" for export, count in result.written.items())
    print(f"wrote into {landing}: {written} rows")
    for finding in result.findings:
        print(f"{finding.kind}: {finding.object_type} {finding.object_id}: {finding.reason}")
    print(
        f"{len(result.skipped)} object(s) not imported, "
        f"{len(result.findings) - len(result.skipped)} warning(s); the report is "
        f"{landing / stripe.REPORT_FILE}"
    )
    return 0
