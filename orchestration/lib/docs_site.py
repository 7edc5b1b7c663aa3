"""`seatshift docs`: the dbt docs and the GX Data Docs of a warehouse, served on 127.0.0.1.

Both sites are static files beside the published warehouse (settings.dbt_docs_dir, written when a
build publishes; settings.data_docs_dir, written by the expectation checks). Python's own
http.server serves them under two prefixes, with one index page that links them; nothing else on
the machine is reachable through it (http.server drops `..` from paths).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from orchestration.lib import settings

# The per-export summary beside its Data Docs, which the index pages read (defined here, not in
# lib/expectations/: that package imports Great Expectations, seconds of start-up for a server).
OUTCOME_FILE = "seatshift_outcome.json"

HOST = "127.0.0.1"
DBT_PREFIX = "/dbt/"
DATA_DOCS_PREFIX = "/data-docs/"


def write_data_docs_index(docs_dir: Path) -> None:
    """One page over the per-export Data Docs sites in `docs_dir`.

    GX's index lists only what its own (ephemeral) context validated and deletes pages it does
    not know, so each export gets its own site folder and this page links the latest of each
    (from each export's OUTCOME_FILE).
    """
    rows = []
    for summary_file in sorted(docs_dir.glob(f"*/{OUTCOME_FILE}")):
        item = json.loads(summary_file.read_text())
        status = "passed" if item["success"] else "FAILED"
        notes = "<br>".join(
            html.escape(line) for line in item["critical_failures"] + item["warnings"]
        )
        rows.append(
            f"<tr><td><a href='{html.escape(item['export'])}/index.html'>"
            f"{html.escape(item['relation'])}</a></td><td>{status}</td>"
            f"<td>{html.escape(str(item['refresh_id'] or 'all rows'))}</td>"
            f"<td>{html.escape(str(item['validated_at']))}</td><td>{notes}</td></tr>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>seatshift data docs</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 12px;text-align:left;"
        "vertical-align:top}</style></head><body><h1>Raw export validations</h1>"
        "<p>Latest Great Expectations validation of each export; follow a link for every "
        "expectation and its result.</p><table><tr><th>relation</th><th>status</th>"
        "<th>refresh</th><th>validated at (UTC)</th><th>failures and warnings</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    (docs_dir / "index.html").write_text(page)


def _modified(path: Path) -> str:
    moment = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _export_rows(data_docs: Path) -> list[str]:
    rows = []
    for summary_file in sorted(data_docs.glob(f"*/{OUTCOME_FILE}")):
        try:
            summary = json.loads(summary_file.read_text())
        except (OSError, ValueError):
            continue
        export = summary_file.parent.name
        status = "passed" if summary.get("success") else "FAILED"
        rows.append(
            f"<li><a href='{DATA_DOCS_PREFIX}{html.escape(export)}/index.html'>"
            f"{html.escape(str(summary.get('relation') or export))}</a>: {status}, validated "
            f"{html.escape(str(summary.get('validated_at') or ''))} UTC</li>"
        )
    return rows


def index_page(warehouse: Path) -> str:
    """The server's front page: what there is to read, and when it was written."""
    dbt_index = settings.dbt_docs_dir(warehouse) / settings.DBT_DOCS_INDEX
    data_docs = settings.data_docs_dir(warehouse)
    if dbt_index.exists():
        dbt_part = (
            f"<p><a href='{DBT_PREFIX}'>dbt docs</a>: the lineage from the raw exports to the "
            "dashboard's pages (exposures), every model and column described, their tests. "
            f"Generated with the published build, {_modified(dbt_index)}.</p>"
        )
    else:
        dbt_part = (
            "<p>dbt docs: not generated yet. A refresh that builds the dbt models writes them "
            f"beside the warehouse when it publishes (<code>{html.escape(str(dbt_index))}</code>)."
            "</p>"
        )
    rows = _export_rows(data_docs)
    if (data_docs / "index.html").exists():
        gx_part = (
            f"<p><a href='{DATA_DOCS_PREFIX}index.html'>Great Expectations Data Docs</a>: the "
            "latest validation of each raw export, every expectation with its result.</p>"
            + ("<ul>" + "".join(rows) + "</ul>" if rows else "")
        )
    else:
        gx_part = (
            "<p>Great Expectations Data Docs: none yet; the expectation checks of a refresh "
            f"write them (<code>{html.escape(str(data_docs))}</code>).</p>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>seatshift docs</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}li{margin:.3em 0}</style>"
        "</head><body><h1>seatshift documentation</h1>"
        f"<p>Warehouse <code>{html.escape(str(warehouse))}</code></p>"
        f"<h2>dbt</h2>{dbt_part}<h2>Raw exports</h2>{gx_part}</body></html>"
    )


class DocsHandler(SimpleHTTPRequestHandler):
    """`/` the index page, `/dbt/...` the dbt docs folder, `/data-docs/...` the GX Data Docs."""

    def __init__(self, *args, warehouse: Path, **kwargs) -> None:
        self.warehouse = warehouse
        self.roots = {
            DBT_PREFIX: settings.dbt_docs_dir(warehouse),
            DATA_DOCS_PREFIX: settings.data_docs_dir(warehouse),
        }
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        for prefix, root in self.roots.items():
            if path.startswith(prefix):
                self.directory = str(root)
                return super().translate_path("/" + path.removeprefix(prefix))
        return os.devnull  # anything else is not found

    def send_head(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path in ("/", "/index.html"):
            body = index_page(self.warehouse).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        if path + "/" in self.roots:  # /dbt -> /dbt/
            self.send_response(301)
            self.send_header("Location", path + "/")
            self.end_headers()
            return None
        if not any(path.startswith(prefix) for prefix in self.roots):
            self.send_error(404, "Not found: the docs are under /dbt/ and /data-docs/")
            return None
        return super().send_head()

    def end_headers(self) -> None:
        # A refresh replaces the files in place: never serve yesterday's docs from a cache.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def make_server(warehouse: Path, port: int) -> ThreadingHTTPServer:
    """Bound to 127.0.0.1 only; raises OSError when the port is taken."""
    return ThreadingHTTPServer((HOST, port), partial(DocsHandler, warehouse=warehouse))
