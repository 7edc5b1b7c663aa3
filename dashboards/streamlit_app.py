"""The dashboard's entrypoint: navigation, the shared header and sidebar, then the chosen page.

Adding a page is one line in PAGES. Run it with `seatshift dashboard` (cwd = repository root).
"""

import streamlit as st

from dashboards.lib import access, audit, queries
from dashboards.lib import docs as docs_links
from dashboards.lib.layout import freshness_header, sidebar_filters
from orchestration.lib import settings

st.set_page_config(page_title="seatshift", page_icon=":material/insights:", layout="wide")
# `seatshift dashboard` says so: this process writes no warehouse file, so its reads keep the
# published one attached instead of opening it for each query (dashboards/lib/queries/_core.py).
queries.keep_attached(settings.keep_warehouse_attached())
# Sign-in first (when `[auth]` is configured): nothing below runs for a reader nobody knows.
reader = access.current_reader()
st.session_state[access.READER_KEY] = reader
# The dbt docs and the GX Data Docs, served by this process for as long as it runs.
docs_links.ensure_served()

# The role a page needs; a reader without it does not see the page in the navigation, and its
# URL opened directly says which role is missing. Controls check their own roles in the pages.
PAGE_ROLES = {"billing_integrity": access.FINANCE}


def _page(path: str, title: str, icon: str, *, default: bool = False) -> st.Page:
    role = PAGE_ROLES.get(path.removeprefix("app_pages/").removesuffix(".py"))
    visible = access.page_allowed(reader, role)
    return st.Page(
        path, title=title, icon=icon, default=default, visibility="visible" if visible else "hidden"
    )


# Grouped by who opens them: the first page is what a reader lands on.
PAGES = {
    "Decision": [
        _page("app_pages/overview.py", "Overview", ":material/flag:", default=True),
    ],
    "Seats and revenue": [
        _page("app_pages/seat_health.py", "Seat health", ":material/groups:"),
        _page("app_pages/value_shift.py", "Value shift", ":material/trending_up:"),
    ],
    "Pricing": [
        _page("app_pages/shadow_billing.py", "Shadow billing", ":material/price_change:"),
        _page("app_pages/projection.py", "Projection", ":material/query_stats:"),
        _page("app_pages/migration_plan.py", "Migration plan", ":material/route:"),
        _page("app_pages/pilot.py", "Pilot", ":material/science:"),
    ],
    "Finance": [
        _page("app_pages/billing_integrity.py", "Billing integrity", ":material/receipt_long:"),
    ],
    "Operations": [
        _page("app_pages/data_health.py", "Data health", ":material/monitor_heart:"),
    ],
}

# KPI labels wrap instead of being cut ("NRR (12 mont…") when five cards share a 1280 px row.
# The header stays compact at 1280x800, so a chart shows on first view.
st.html(
    "<style>[data-testid='stMetricLabel'] *{white-space:normal!important;"
    "overflow:visible!important;text-overflow:clip!important}"
    "[data-testid='stMetricValue'] *{overflow:visible!important;text-overflow:clip!important}"
    "[data-testid='stMainBlockContainer']{padding-top:3.6rem!important}"
    "h1{font-size:1.9rem!important;padding:0 0 .3rem!important}</style>"
)
page = st.navigation(PAGES)
st.title(page.title)
st.session_state[audit.PAGE_KEY] = page.title
access.reader_in_sidebar(reader)
required = PAGE_ROLES.get(page.url_path)
if required is not None and not reader.may(required):
    access.refuse_page(required, reader)
sidebar_filters()
freshness_header()
page.run()
