"""`seatshift report` and `seatshift paper-invoice`: the two documents a page's button writes, by
the dashboard's own modules (dashboards.lib.report, dashboards.lib.paper_invoice), so the file a
command writes is the file the page offers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.lib import settings


def register(commands) -> None:
    report_command = commands.add_parser(
        "report", help="write the decision pack: one self-contained HTML file"
    )
    report_command.add_argument("--out", required=True, help="folder to write the pack into")
    report_command.add_argument(
        "--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})"
    )
    report_command.add_argument(
        "--segment",
        help="the segment in depth, by its id or its name (mid_market or Mid-market; default: "
        "the one most in need of a decision)",
    )
    report_command.add_argument(
        "--price-model",
        help="the proposal of the pilot list, by its id or its name (default: the passing one "
        "whose revenue change is closest to zero, as the Overview suggests)",
    )
    report_command.set_defaults(handler=report)

    paper = commands.add_parser(
        "paper-invoice",
        help="write one account's old and new invoice side by side: one self-contained HTML file",
    )
    paper.add_argument("--account", required=True, help="the account id")
    paper.add_argument("--price-model", required=True, help="the proposal to price the month by")
    paper.add_argument("--out", required=True, help="folder to write the file into")
    paper.add_argument("--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})")
    paper.add_argument(
        "--month", help="YYYY-MM (default: the latest month the account was really billed)"
    )
    paper.set_defaults(handler=paper_invoice)


def _write(command: str, warehouse: str | None, out: str, build) -> Path | None:
    """Point the dashboard's own modules at the published warehouse, build the document with them
    and write it into `out`; None, said in one line, when there is no warehouse or a read fails."""
    published = settings.warehouse_path(settings.from_here(warehouse))
    if not published.exists():
        print(f"{command} failed: no published warehouse at {published}", file=sys.stderr)
        return None
    settings.configure(warehouse=published)
    import dashboards.lib

    dashboards.lib.use_without_server()
    from dashboards.lib import queries

    try:
        name, html = build()
    except queries.QueryFailed as failure:
        print(f"{command} failed: {failure.sentence} {failure.details}".strip(), file=sys.stderr)
        return None
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(html, encoding="utf-8")
    return path


def report(args: argparse.Namespace) -> int:
    """The decision pack, written by the dashboard's own report module (the Overview's button)."""

    def build():
        from dashboards.lib import report

        return report.build_pack(segment=args.segment, price_model_id=args.price_model)

    path = _write("report", args.warehouse, args.out, build)
    if path is None:
        return 1
    size = path.stat().st_size / 1e6
    print(f"wrote the decision pack {path} ({size:.1f} MB, opens offline)")
    return 0


def paper_invoice(args: argparse.Namespace) -> int:
    """One account's old and new invoice side by side, by the dashboard's own module (the
    Migration plan page's button)."""

    def build():
        from dashboards.lib import paper_invoice

        return paper_invoice.build_paper_invoice(args.account, args.price_model, month=args.month)

    path = _write("paper-invoice", args.warehouse, args.out, build)
    if path is None:
        return 1
    print(f"wrote the paper invoice {path} (opens offline)")
    return 0
