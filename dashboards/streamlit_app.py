"""The dashboard's entrypoint: navigation, the shared header and sidebar, then the chosen page.

Adding a page is one line in PAGES. Run it with `seatshift dashboard` (cwd = repository root).
"""

import sys
from pathlib import Path

import streamlit as st

DASHBOARDS_DIR = str(Path(__file__).resolve().parent)
if DASHBOARDS_DIR not in sys.path:  # `streamlit run` adds it for `from lib...`; AppTest does not
    sys.path.insert(0, DASHBOARDS_DIR)

from lib.layout import freshness_header, sidebar_filters  # noqa: E402

# Grouped by who opens them (DASHBOARD.md): the first page is what a reader lands on.
PAGES = {
    "Decision": [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/flag:", default=True),
    ],
    "Seats and revenue": [
        st.Page("app_pages/seat_health.py", title="Seat health", icon=":material/groups:"),
        st.Page("app_pages/value_shift.py", title="Value shift", icon=":material/trending_up:"),
    ],
    "Pricing": [
        st.Page(
            "app_pages/shadow_billing.py", title="Shadow billing", icon=":material/price_change:"
        ),
        st.Page("app_pages/projection.py", title="Projection", icon=":material/query_stats:"),
        st.Page("app_pages/migration_plan.py", title="Migration plan", icon=":material/route:"),
    ],
    "Finance": [
        st.Page(
            "app_pages/billing_integrity.py",
            title="Billing integrity",
            icon=":material/receipt_long:",
        ),
    ],
    "Operations": [
        st.Page("app_pages/data_health.py", title="Data health", icon=":material/monitor_heart:"),
    ],
}

st.set_page_config(page_title="seatshift", page_icon=":material/insights:", layout="wide")
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
sidebar_filters()
freshness_header()
page.run()
