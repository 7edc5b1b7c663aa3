"""Every public query function of the dashboard (`dashboards/lib/queries/`), timed cache off.

The functions are called as the pages call them, with arguments taken from the warehouse itself
(its segments, months, price models, the first account with invoices ...), reading as the
dashboard's server reads (`queries.keep_attached`). Streamlit's caches (`st.cache_data` of the
reads, `st.cache_resource` of the what-if workspaces) are cleared and the warehouse detached
before every call, so each figure is what a reader pays on a cache miss, e.g. right after a
publish.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import percentile

CALLS = 7
NOT_QUERIES = {"clear_cache", "keep_attached", "warehouse"}  # no warehouse read to time
# a function timed again with other arguments, under a name of its own: the Projection page's
# worst edit, the scenario spread, which moves every rated quantity off the growth grid, so the
# sample is rated on the edit
VARIANTS = {
    "re_projection (spread)": (
        "re_projection",
        {"assumptions": (("projection_scenario_spread", 1.5),)},
    ),
}


def _queries(warehouse: Path):
    os.environ["SEATSHIFT_WAREHOUSE"] = str(warehouse)
    import dashboards.lib

    dashboards.lib.use_without_server()
    from dashboards.lib import queries

    return queries


def _arguments(queries) -> dict[str, object]:
    """A value for every parameter name the query functions take, from the warehouse."""
    months = queries.months()
    segments = queries.segments()
    models = [name for name in queries.price_model_names() if name != "current"]
    account_id = str(queries.billing_accounts()["account_id"].iloc[0])
    invoice_id = str(queries.billing_invoices(account_id)["invoice_id"].iloc[0])
    lines = queries.billing_invoice_lines(invoice_id)
    components, tiers = queries.price_book(models[0])
    piloted = queries.pilot_readout()["pilot_model_id"]
    return {
        "refresh_id": queries.latest_refresh_id(),
        "segments": (),  # every segment, the pages' default
        "period": (months[0], months[-1]),
        "segment": segments[0],
        "price_model_id": models[0],
        # the Pilot page's proposal: the one piloted (any model where nothing is)
        "pilot_model_id": str(piloted.iloc[0]) if len(piloted) else models[0],
        "model": models[0],
        "models": tuple(models),
        "thresholds": (),
        "horizons": (6, 12, 24),  # the Projection page's totals (lib.road_ahead.HORIZONS)
        "account_id": account_id,
        "invoice_id": invoice_id,
        "reconciliation_id": str(lines["reconciliation_id"].iloc[0]),
        # the paper invoice's month: the account's latest month billed and shadow-billed
        "month": queries.paper_invoice_month(account_id, models[0]) or months[-1],
        "dimension": "feature",
        "components": components,
        "tiers": tiers,
        # the Projection page's usual edit, the growth, between two multipliers of the build's
        # growth grid (projection_edit_growth_grid): each rated line moved between its two
        # amounts, not read at one of them (VARIANTS times the edit that rates)
        "assumptions": (("projection_growth_multiplier", 1.6),),
        # the Projection page's cost curve as built (an edit adds tiers with their decline)
        "cost_curve": (),
    }


def query_functions(queries) -> dict[str, Callable]:
    """Every public function of every subject module of the queries package, as the package
    re-exports it (the pages call `queries.<name>`): a function a module adds is timed without
    being listed here, and one the package forgot to re-export fails here, not on a page."""
    found: dict[str, Callable] = {}
    for module_info in pkgutil.iter_modules(queries.__path__):
        module = importlib.import_module(f"{queries.__name__}.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if (
                function.__module__ != module.__name__
                or name.startswith("_")
                or name in NOT_QUERIES
            ):
                continue
            if name in found:
                raise ValueError(f"two query modules define {name}")
            if getattr(queries, name, None) is not function:
                raise AttributeError(
                    f"{queries.__name__} does not re-export {module.__name__}.{name}"
                )
            found[name] = function
    return dict(sorted(found.items()))


def time_queries(warehouse: Path, calls: int = CALLS) -> dict[str, tuple[float, float]]:
    """p50 and p95 seconds per function over `calls` calls, caches cleared before each."""
    import streamlit as st

    queries = _queries(warehouse)
    arguments = _arguments(queries)
    timings = {}
    functions = query_functions(queries)
    calls_to_time = [
        (name, function, {key: arguments[key] for key in inspect.signature(function).parameters
                          if key in arguments})
        for name, function in functions.items()
    ] + [
        (name, functions[function_name], given)
        for name, (function_name, given) in VARIANTS.items()
    ]  # fmt: skip
    queries.keep_attached(True)
    try:
        for name, function, given in calls_to_time:
            seconds = []
            for _ in range(calls):
                st.cache_data.clear()
                st.cache_resource.clear()
                queries.clear_cache()  # and detach the warehouse: the next read attaches it
                started = time.perf_counter()
                function(**given)
                seconds.append(time.perf_counter() - started)
            timings[name] = (percentile(seconds, 0.5), percentile(seconds, 0.95))
    finally:
        queries.keep_attached(False)
    return timings
