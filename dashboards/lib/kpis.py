"""KPI rows declared as data: each figure names its glossary metric, which gives the label, the
unit it is written in and the definition shown on hover; a page says only where the value is.

    kpi_row(row, [Kpi("mrr", "ending_mrr_usd"), Kpi("nrr", "nrr", "{label} (12 months)")])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import streamlit as st

from dashboards.lib.definitions import definition, label, unit
from dashboards.lib.format import by_unit


@dataclass(frozen=True)
class Kpi:
    """One figure of a row."""

    metric: str  # the glossary's key: label, unit and definition
    value: str  # the key in the row that holds the figure
    # The printed label: "{label}" is the glossary's; a page may qualify it ("{label}, period").
    wording: str = "{label}"
    # A figure that counts the metric's accounts (a flag's) is written as a count, not its unit.
    unit: str | None = None
    decimals: int | None = None
    delta: str | None = None  # the key in the row of a text shown under the figure, uncoloured
    chart: str | None = None  # the key in the row of a series drawn under it as a sparkline


def kpi_row(
    row: Mapping,
    kpis: Sequence[Kpi],
    *,
    suffix: str = "",
    border: bool = True,
    fit: bool = False,
    **context,
) -> None:
    """The figures side by side, in bordered cards unless `border` is False: in equal columns,
    or with `fit` each as wide as its text (a long delta stays whole). `context` fills the
    wordings' other fields; `suffix` ends every label (" · smb", " (edited)")."""
    holders = [st.container(horizontal=True)] * len(kpis) if fit else st.columns(len(kpis))
    for column, kpi in zip(holders, kpis, strict=True):
        delta = row.get(kpi.delta) if kpi.delta else None
        chart = row.get(kpi.chart) if kpi.chart else None
        column.metric(
            kpi.wording.format(label=label(kpi.metric), **context) + suffix,
            by_unit(row.get(kpi.value), kpi.unit or unit(kpi.metric), kpi.decimals),
            delta=delta,
            delta_color="off",
            delta_arrow="off",
            help=definition(kpi.metric),
            border=border,
            chart_data=chart,
            chart_type="line",
        )
