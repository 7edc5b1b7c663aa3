"""Metric definitions and the settings in force, as the build published them
(rpt_metric_definitions, rpt_settings).
"""

from __future__ import annotations

import pandas as pd

from ._core import _read


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
