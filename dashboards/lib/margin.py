"""The projection's cost to serve, gross margin and cash, shaped for the Projection page and the
decision pack (docs blocks projected_cost, projected_margin, projected_cash,
projection_cost_curve).

The figures are fct_projection_margin_and_cash's (or the re-projection's, in the same columns);
every header is the glossary's label of its metric.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from dashboards.lib.definitions import label
from dashboards.lib.format import MISSING, money, percent

HORIZON = 24
CASH_HORIZON = 12
# Words for a label the build has not published (before the first refresh with these metrics).
FALLBACK_LABELS = {
    "mrr": "MRR",
    "projected_cost": "Cost to serve",
    "projected_margin": "Margin",
    "projected_cash": "Cash",
    "projection_cost_curve": "Projected cost curve",
    "model_cost_decline": "Yearly cost decline",
}


def header(metric: str) -> str:
    return label(metric, FALLBACK_LABELS.get(metric))


def totals(frame: pd.DataFrame, names: dict[str, str], scenario: str = "middle") -> pd.DataFrame:
    """Per model, over months 1 .. 24 of `scenario`: the MRR, the cost to serve, the gross margin
    and its share; and over months 1 .. 12 the cash beside the MRR, and the difference (cash
    minus MRR: above 0, money collected ahead of the revenue it pays for). Exact numbers."""
    rows = frame[(frame["scenario"] == scenario) & frame["months_ahead"].between(1, HORIZON)]
    out = []
    for model, group in rows.groupby("price_model_id", sort=False):
        first_year = group[group["months_ahead"] <= CASH_HORIZON]
        revenue = float(group["projected_revenue_usd"].astype(float).sum())
        cost = float(group["projected_cost_usd"].astype(float).sum())
        margin = float(group["projected_margin_usd"].astype(float).sum())
        cash_12 = float(first_year["projected_cash_usd"].astype(float).sum())
        revenue_12 = float(first_year["projected_revenue_usd"].astype(float).sum())
        out.append(
            {
                "price_model_id": model,
                "name": names.get(model, model),
                "is_current_model": bool(group["is_current_model"].iloc[0]),
                "revenue_24m_usd": revenue,
                "cost_24m_usd": cost,
                "margin_24m_usd": margin,
                "margin_24m_pct": margin / revenue if revenue else None,
                "revenue_12m_usd": revenue_12,
                "cash_12m_usd": cash_12,
                "cash_ahead_12m_usd": cash_12 - revenue_12,
            }
        )
    columns = [
        "price_model_id", "name", "is_current_model", "revenue_24m_usd", "cost_24m_usd",
        "margin_24m_usd", "margin_24m_pct", "revenue_12m_usd", "cash_12m_usd",
        "cash_ahead_12m_usd",
    ]  # fmt: skip
    table = pd.DataFrame(out, columns=columns)
    return table.sort_values(["is_current_model", "price_model_id"], ascending=[False, True])


def table(totals_frame: pd.DataFrame) -> pd.DataFrame:
    """`totals` in words, under the glossary's labels."""
    return pd.DataFrame(
        {
            "Model": totals_frame["name"],
            f"{header('mrr')}, 24 mo.": totals_frame["revenue_24m_usd"].map(money),
            f"{header('projected_cost')}, 24 mo.": totals_frame["cost_24m_usd"].map(money),
            f"{header('projected_margin')}, 24 mo.": totals_frame["margin_24m_usd"].map(money),
            "Margin %": totals_frame["margin_24m_pct"].map(
                lambda share: MISSING if share is None or pd.isna(share) else percent(share)
            ),
            f"{header('projected_cash')}, 12 mo.": totals_frame["cash_12m_usd"].map(money),
            f"{header('projected_cash')} - {header('mrr')}, 12 mo.": totals_frame[
                "cash_ahead_12m_usd"
            ].map(money),
        }
    )


def column_config(definition: Callable[[str], str]) -> dict:
    """Each header of `table` with its metric's definition on hover."""
    import streamlit as st

    def text(help_text: str):
        return st.column_config.TextColumn(help=help_text, alignment="right")

    return {
        "Model": st.column_config.TextColumn(width="medium"),
        f"{header('mrr')}, 24 mo.": text(definition("mrr")),
        f"{header('projected_cost')}, 24 mo.": text(definition("projected_cost")),
        f"{header('projected_margin')}, 24 mo.": text(definition("projected_margin")),
        "Margin %": text(definition("projected_margin")),
        f"{header('projected_cash')}, 12 mo.": text(definition("projected_cash")),
        f"{header('projected_cash')} - {header('mrr')}, 12 mo.": text(definition("projected_cash")),
    }


def cost_curve_editor_frame(curve: pd.DataFrame) -> pd.DataFrame:
    """The cost curve as the page edits it: per tier, the latest cost, the decline measured on
    the price list and the one the projection applies, in percent."""
    return pd.DataFrame(
        {
            "model": curve["model"].astype(str),
            "latest_usd_per_1k": curve["latest_usd_per_1k_in_and_out"].astype(float),
            "measured_pct": curve["yearly_decline"].astype(float) * 100,
            "applied_pct": curve["projection_yearly_decline"].astype(float) * 100,
        }
    )


def edited_curve(editor: pd.DataFrame, built: pd.DataFrame) -> tuple[tuple[str, float], ...]:
    """The tiers whose applied decline differs from the build's, as (tier, fraction) pairs:
    what the re-projection takes."""
    in_force = dict(
        zip(
            built["model"].astype(str),
            built["projection_yearly_decline"].astype(float),
            strict=True,
        )
    )
    edits = []
    for model, applied in zip(editor["model"], editor["applied_pct"], strict=True):
        if applied is None or pd.isna(applied):
            continue
        built = in_force.get(str(model))
        # the editor shows (and keeps) two decimals of a percent: an unchanged cell is the build's
        if built is not None and round(float(applied), 2) == round(built * 100, 2):
            continue
        edits.append((str(model), round(float(applied) / 100, 10)))
    return tuple(sorted(edits))
