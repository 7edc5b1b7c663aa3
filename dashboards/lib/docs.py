"""Where the dbt docs and the GX Data Docs of the published warehouse are served, for Data health.

The dashboard serves both itself, from a thread of its own process on 127.0.0.1
(settings.docs_url(): `seatshift dashboard` sets it to the port after the dashboard's), so the
links work whenever the dashboard runs and stop with it; `seatshift docs` serves the same pages on
their own. When the port is taken (a `seatshift docs` already serves there), the links point at it.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from urllib.parse import urlparse

from dashboards.lib import queries
from orchestration.lib import settings
from orchestration.lib.docs_site import DATA_DOCS_PREFIX, DBT_PREFIX, HOST, make_server


@dataclass(frozen=True)
class DocsLinks:
    server: str  # the docs server's front page
    dbt: str
    data_docs: str
    start_command: str
    dbt_generated_at: dt.datetime | None  # when the published build's dbt docs were written
    has_data_docs: bool


# The servers this process started, by (warehouse, port). Only a server that started is kept: a
# port that was taken is tried again on the next page run, so the links answer once it is free
# (a cached failure kept them refused until the dashboard restarted).
_SERVERS: dict[tuple[str, int], ThreadingHTTPServer] = {}
_SERVERS_LOCK = threading.Lock()


def serve(warehouse: str, port: int) -> bool:
    """The docs server for the published warehouse on 127.0.0.1:port, in a daemon thread of the
    dashboard's process (once per process); False while the port is taken by something else."""
    with _SERVERS_LOCK:
        if (warehouse, port) in _SERVERS:
            return True
        try:
            server = make_server(settings.warehouse_path(warehouse), port)
        except OSError:
            return False
        threading.Thread(target=server.serve_forever, name="seatshift-docs", daemon=True).start()
        _SERVERS[(warehouse, port)] = server
        return True


def ensure_served() -> None:
    """Start the docs server when the docs URL is on this machine (a remote one is not ours)."""
    url = urlparse(settings.docs_url())
    if url.hostname in (HOST, "localhost") and url.port:
        serve(str(queries.warehouse().path), url.port)


def links() -> DocsLinks:
    published = queries.warehouse().path
    server = settings.docs_url()
    port = urlparse(server).port or settings.DEFAULT_DOCS_PORT
    dbt_index = settings.dbt_docs_dir(published) / settings.DBT_DOCS_INDEX
    generated_at = (
        dt.datetime.fromtimestamp(dbt_index.stat().st_mtime, dt.UTC) if dbt_index.exists() else None
    )
    return DocsLinks(
        server=server + "/",
        dbt=server + DBT_PREFIX,
        data_docs=server + DATA_DOCS_PREFIX + "index.html",
        start_command=f"seatshift docs --warehouse {published} --port {port}",
        dbt_generated_at=generated_at,
        has_data_docs=(settings.data_docs_dir(published) / "index.html").exists(),
    )
