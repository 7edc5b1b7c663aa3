"""What each number means and which thresholds are in force, read from the published build.

The definitions are the dbt docs blocks (marts.rpt_metric_definitions) and the thresholds the dbt
vars of the build (marts.rpt_settings), so `seatshift refresh --vars ...` moves the lines drawn on
the charts and nothing is typed twice. Before the first build there is nothing to read: a
definition is then a sentence saying so, and a threshold is None (no line is drawn).
"""

from __future__ import annotations

import pandas as pd

from dashboards.lib import queries

NOT_YET = "Defined in the warehouse; shown after the first refresh."


def _definitions() -> dict[str, tuple[str, str, str]]:
    if not queries.warehouse().exists:
        return {}
    try:
        return queries.definitions_by_metric()
    except queries.QueryFailed:
        return {}


def definition(metric: str) -> str:
    """The metric's definition (its dbt docs block), for a `help=` tooltip."""
    entry = _definitions().get(metric)
    return entry[1] if entry else NOT_YET


def label(metric: str, default: str | None = None) -> str:
    entry = _definitions().get(metric)
    return entry[0] if entry else (default or metric.replace("_", " ").capitalize())


def segment_label(segment: str) -> str:
    """A segment as readers name it, on every page, chart and in the pack: its label in the
    glossary (`segment_<id>`: "SMB", "Mid-market", "All segments" for the pooled `all`); a segment
    the glossary does not name keeps its own spelling, its underscores as spaces and its first
    letter capital."""
    words = segment.replace("_", " ")
    return label(f"segment_{segment}", default=words[:1].upper() + words[1:])


def segment_labels(segments: pd.Series) -> pd.Series:
    """segment_label of a column: each distinct segment looked up once (a lookup reads the
    glossary, about 2 ms, and a column can hold a row per account)."""
    names = {segment: segment_label(segment) for segment in segments.dropna().unique()}
    return segments.map(names)


def unit(metric: str, default: str = "text") -> str:
    """The metric's unit in the glossary (fraction, usd, count, ...): how its values are written."""
    entry = _definitions().get(metric)
    return entry[2] if entry else default


def settings() -> dict[str, str | None]:
    """Every setting in force of the published build, by name (values as text)."""
    if not queries.warehouse().exists:
        return {}
    try:
        return queries.settings_by_name()
    except queries.QueryFailed:
        return {}


def threshold(name: str) -> float | None:
    """A numeric setting in force (utilization_red_flag, invoice_accuracy_bar, ...), or None."""
    value = settings().get(name)
    try:
        return None if value is None else float(value)
    except ValueError:
        return None
