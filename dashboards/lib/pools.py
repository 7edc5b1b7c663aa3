"""Prepaid pools, shaped for the Shadow billing page, the pack and the paper invoice: per proposal
with a pool, the accounts its usage alerts would have reached each month, the unused balance
carried (a liability for Finance) and the expired units (breakage), and an account's own alert
dates (docs blocks pool_alerts, prepaid_liability, breakage).

The figures are the marts' (fct_prepaid_pool_monthly, fct_prepaid_pool_alerts); every header is the
glossary's label of the metric.
"""

from __future__ import annotations

import pandas as pd

from dashboards.lib.definitions import label
from dashboards.lib.format import MISSING, count, money

ALERT_LEVELS = (70, 90, 100)
FALLBACK_LABELS = {
    "pool_alerts": "Pool alerts",
    "prepaid_liability": "Prepaid liability",
    "breakage": "Breakage",
}


def header(metric: str) -> str:
    return label(metric, FALLBACK_LABELS.get(metric))


def alert_series(rows: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Long form for a chart: month, proposal, alert level ("70%"), accounts reaching it."""
    long = rows.melt(
        id_vars=["month", "price_model_id"],
        value_vars=[f"accounts_alerted_{level}" for level in ALERT_LEVELS],
        var_name="level",
        value_name="accounts_reaching",
    )
    level = long["level"].str.removeprefix("accounts_alerted_").astype(int)
    long["level"] = level.astype(str) + "%"
    long["proposal"] = long["price_model_id"].map(lambda model: names.get(model, model))
    long["month"] = pd.to_datetime(long["month"])
    # by the level's number, so the legend reads 70%, 90%, 100% (as text, "100%" sorts first)
    return long.assign(level_order=level).sort_values(["proposal", "level_order", "month"])


def alert_level_names() -> list[str]:
    """The alert levels as alert_series names them, lowest first: the chart's legend order."""
    return [f"{level}%" for level in ALERT_LEVELS]


def money_series(rows: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Long form for a chart: month, proposal, what ("Prepaid liability", "Breakage"), USD."""
    long = rows.melt(
        id_vars=["month", "price_model_id"],
        value_vars=["liability_usd", "breakage_usd"],
        var_name="what",
        value_name="usd",
    )
    long["what"] = long["what"].map(
        {"liability_usd": header("prepaid_liability"), "breakage_usd": header("breakage")}
    )
    long["usd"] = long["usd"].astype("float64")
    long["proposal"] = long["price_model_id"].map(lambda model: names.get(model, model))
    long["month"] = pd.to_datetime(long["month"])
    return long.sort_values(["proposal", "what", "month"])


def summary(rows: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One row per pool proposal: the latest month's accounts at each alert and liability, and the
    breakage over every rated month."""
    out = []
    for model, model_rows in rows.groupby("price_model_id", sort=False):
        ordered = model_rows.sort_values("month")
        latest = ordered.iloc[-1]
        out.append(
            {
                "Proposal": names.get(model, model),
                "Latest month": f"{pd.Timestamp(latest['month']):%b %Y}",
                "Accounts": count(latest["accounts"]),
                **{
                    f"At {level}%": count(latest[f"accounts_alerted_{level}"])
                    for level in ALERT_LEVELS
                },
                header("prepaid_liability"): money(latest["liability_usd"]),
                header("breakage"): money(float(ordered["breakage_usd"].astype("float64").sum())),
            }
        )
    return pd.DataFrame(out)


def column_config() -> dict:
    """The summary's headers, narrow enough for 1280 px, each with its definition on hover."""
    import streamlit as st

    from dashboards.lib.definitions import definition

    config = {
        "Proposal": st.column_config.TextColumn(width="medium"),
        "Latest month": st.column_config.TextColumn(width="small"),
        "Accounts": st.column_config.TextColumn(width="small", alignment="right"),
        header("prepaid_liability"): st.column_config.TextColumn(
            help=definition("prepaid_liability") + " In the latest month.", alignment="right"
        ),
        header("breakage"): st.column_config.TextColumn(
            help=definition("breakage") + " Over every rated month.", alignment="right"
        ),
    }
    for level in ALERT_LEVELS:
        config[f"At {level}%"] = st.column_config.TextColumn(
            width="small", alignment="right", help=definition("pool_alerts")
        )
    return config


def download_table(rows: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Every pool proposal x segment x month with exact numbers, for the CSV."""
    frame = rows.copy()
    frame.insert(0, "proposal", frame["price_model_id"].map(lambda model: names.get(model, model)))
    return frame.drop(columns=["name"], errors="ignore").reset_index(drop=True)


def account_alert_text(alerts: pd.DataFrame) -> str:
    """ "100% in Mar 2025, Jun 2025 (2 months) ..." for one account under one pool: the first and
    the latest month it reached each level; "none" when it never did."""
    if alerts.empty:
        return "none"
    parts = []
    for level in ALERT_LEVELS:
        found = alerts[alerts["alert_pct"] == level]
        if found.empty:
            continue
        row = found.iloc[0]
        first, latest = pd.Timestamp(row["first_month"]), pd.Timestamp(row["latest_month"])
        when = (
            f"{first:%b %Y}" if first == latest else f"first {first:%b %Y}, latest {latest:%b %Y}"
        )
        parts.append(f"{level}%: {when} ({count(row['months_reached'])} months)")
    return "; ".join(parts) or MISSING
