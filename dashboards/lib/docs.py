"""Where the dbt docs and the GX Data Docs of the published warehouse are served, for Data health.

`seatshift docs` serves both on 127.0.0.1 (settings.docs_url(); `SEATSHIFT_DOCS_URL` when it runs
on another port). The dashboard does not start it: the links say how.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlparse

from lib import queries
from orchestration.lib import settings
from orchestration.lib.docs_site import DATA_DOCS_PREFIX, DBT_PREFIX


@dataclass(frozen=True)
class DocsLinks:
    server: str  # the docs server's front page
    dbt: str
    data_docs: str
    start_command: str
    dbt_generated_at: dt.datetime | None  # when the published build's dbt docs were written
    has_data_docs: bool


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
