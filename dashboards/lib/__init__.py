"""Shared code of the dashboard: queries (all SQL and caching), charts, formatting, layout, and
the two documents a page and a command both write (the decision pack, the paper invoice)."""

import logging


def use_without_server() -> None:
    """Ready these modules for a command or script that runs them with no Streamlit server (the
    decision pack, the paper invoice, the bench). Streamlit's caches work there too, and say so at
    warning level from each cached function; call this before importing `queries` to silence it."""
    for cache in ("cache_data_api", "cache_resource_api"):
        logging.getLogger(f"streamlit.runtime.caching.{cache}").disabled = True
