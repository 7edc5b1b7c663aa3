"""Metric definitions and the settings in force, as the build published them
(rpt_metric_definitions, rpt_settings).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ._core import _read, warehouse


def metric_definitions() -> pd.DataFrame:
    """One row per metric: metric, label, definition (its dbt docs block), unit."""
    return _read(
        "the metric definitions",
        "select metric, label, definition, unit from marts.rpt_metric_definitions",
    )


# Every setting of the published build in its order (also read by the Projection page's
# workspace, over the warehouse attached as `published`).
SETTINGS_IN_FORCE_SQL = """
    select name, value, default_value, description, unit, is_overridden
    from marts.rpt_settings
    where is_known_setting
    order by setting_position
"""


def settings_in_force() -> pd.DataFrame:
    """Every setting of the published build: name, value, default_value, description, unit."""
    return _read("the settings in force", SETTINGS_IN_FORCE_SQL)


# The pages look a label, a definition or a threshold up dozens of times a run (a legend, a
# heading, a help text each): built once per published build, a lookup is a dict's, where
# building it from the cached frame took about 1.7 ms a call.
@st.cache_resource(max_entries=2, show_spinner=False)
def _definitions_by_metric(path: str, version: str) -> dict[str, tuple[str, str, str]]:
    del path, version  # only the cache key
    frame = metric_definitions()
    return {
        str(metric): (str(label), str(definition), str(unit))
        for metric, label, definition, unit in frame[
            ["metric", "label", "definition", "unit"]
        ].itertuples(index=False)
    }


def definitions_by_metric() -> dict[str, tuple[str, str, str]]:
    """metric -> (label, definition, unit) of the published build (rpt_metric_definitions)."""
    current = warehouse()
    return _definitions_by_metric(str(current.path), current.version)


@st.cache_resource(max_entries=2, show_spinner=False)
def _settings_by_name(path: str, version: str) -> dict[str, str | None]:
    del path, version  # only the cache key
    frame = settings_in_force()
    return dict(zip(frame["name"], frame["value"], strict=True))


def settings_by_name() -> dict[str, str | None]:
    """name -> value (as text) of every setting in force of the published build (rpt_settings)."""
    current = warehouse()
    return _settings_by_name(str(current.path), current.version)
