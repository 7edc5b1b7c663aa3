"""`seatshift docs`: the dbt docs and the GX Data Docs of the warehouse, on 127.0.0.1."""

from __future__ import annotations

import argparse
import contextlib
import sys

from orchestration.lib import settings


def register(commands) -> None:
    docs = commands.add_parser(
        "docs", help="serve the dbt docs and the GX Data Docs of the warehouse on 127.0.0.1"
    )
    docs.add_argument("--warehouse", help=f"warehouse file (default {settings.DEFAULT_WAREHOUSE})")
    docs.add_argument(
        "--port",
        type=int,
        default=settings.DEFAULT_DOCS_PORT,
        help=f"the port on 127.0.0.1 (default {settings.DEFAULT_DOCS_PORT})",
    )
    docs.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The dbt docs and the GX Data Docs beside the warehouse, on 127.0.0.1, until Ctrl-C."""
    from orchestration.lib import docs_site

    published = settings.warehouse_path(settings.from_here(args.warehouse))
    try:
        server = docs_site.make_server(published, args.port)
    except OSError as error:
        print(
            f"docs failed: cannot serve on {docs_site.HOST}:{args.port}: {error}", file=sys.stderr
        )
        return 2
    host, port = server.server_address[:2]
    dbt_index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
    print(
        f"serving the docs of {published} on http://{host}:{port}/ (dbt docs at "
        f"{docs_site.DBT_PREFIX}{'' if dbt_index.exists() else ', not generated yet'}; GX Data "
        f"Docs at {docs_site.DATA_DOCS_PREFIX}). Ctrl-C stops it.",
        flush=True,
    )
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
