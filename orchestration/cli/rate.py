"""`seatshift rate`: rate usage quantities under a price book with shadow billing's own SQL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands) -> None:
    rate = commands.add_parser(
        "rate", help="rate usage quantities under a price book with shadow billing's SQL"
    )
    rate.add_argument("--price-book", required=True, help="folder of the price book's CSVs")
    rate.add_argument("--usage", required=True, help="CSV: account_id, period, metric, quantity")
    rate.add_argument("--out", required=True, help="CSV to write the rated lines into")
    rate.add_argument(
        "--warehouse",
        help="take the rating SQL this warehouse's build published (default: the configured "
        "warehouse; without one, dbt compiles it)",
    )
    rate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.lib import rating, settings

    try:
        sql = rating.rating_sql(settings.from_here(args.warehouse))
        rows = rating.rate(Path(args.price_book), Path(args.usage), sql=sql)
    except (rating.RatingError, OSError) as error:
        print(f"rate failed: {error}", file=sys.stderr)
        return 1
    count = rating.write_output(rows, Path(args.out))
    print(f"wrote {count:,} rated lines into {args.out}")
    return 0
