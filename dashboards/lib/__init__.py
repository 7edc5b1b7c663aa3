"""Shared code of the dashboard: queries (all SQL and caching), charts, formatting, layout."""
