"""Customer choice, shaped for the pages and the decision pack: a proposal offered beside the
current model, each account taking the option it would have paid less under over the choice window
(docs block customer_choice), beside the forced switch that moves everyone.

The figures are the marts' (fct_customer_choice_by_segment, fct_customer_choice); every header is
the glossary's label of the metric, so the Overview, Shadow billing and the pack say the same words.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from dashboards.lib.definitions import label, segment_labels
from dashboards.lib.format import MISSING, count, money, percent

PORTFOLIO = "all"

# The per-segment figures: column of fct_customer_choice_by_segment -> (glossary metric, unit).
SEGMENT_FIGURES = (
    ("accounts", "revenue_existing_base", "count"),
    ("switching_accounts", "is_choosing_proposal", "count"),
    ("current_usd", "choice_current_revenue", "usd"),
    ("forced_switch_usd", "forced_switch_revenue", "usd"),
    ("forced_switch_change_pct", "forced_switch_revenue", "change"),
    ("choice_usd", "choice_revenue", "usd"),
    ("choice_change_pct", "choice_revenue", "change"),
    ("adverse_selection_usd", "adverse_selection", "usd"),
)

# The accounts that would switch: column of fct_customer_choice -> (glossary metric, unit).
ACCOUNT_FIGURES = (
    ("current_usd", "choice_current_bill", "usd"),
    ("proposal_usd", "choice_proposal_bill", "usd"),
    ("saving_usd", "choice_saving", "usd"),
    ("saving_pct", "choice_saving_pct", "fraction"),
)

# Words for a label the build has not published (before the first refresh with these metrics).
FALLBACK_LABELS = {
    "revenue_existing_base": "Existing accounts",
    "is_choosing_proposal": "Would switch",
    "choice_current_revenue": "If nobody moves",
    "forced_switch_revenue": "Forced switch",
    "choice_revenue": "Under choice",
    "adverse_selection": "Adverse selection",
    "choice_current_bill": "Pays now",
    "choice_proposal_bill": "On the proposal",
    "choice_saving": "Saves",
    "choice_saving_pct": "Saves, share of the bill",
}


def header(metric: str, unit: str) -> str:
    """A column's header: the glossary's label; a change against the revenue if nobody moves
    is that label with a Δ."""
    words = label(metric, FALLBACK_LABELS.get(metric))
    return f"Δ {words[:1].lower()}{words[1:]}" if unit == "change" else words


def _ordered(rows: pd.DataFrame, segments: list[str] | None) -> pd.DataFrame:
    """The rows of the segments in their order, then the whole base (`all`); proposal by
    proposal when there are several."""
    order = [*(segments or []), PORTFOLIO]
    if not segments:
        named = sorted(segment for segment in rows["segment"].unique() if segment != PORTFOLIO)
        order = [*named, PORTFOLIO]
    rows = rows[rows["segment"].isin(order)].copy()
    rows["_order"] = rows["segment"].map(order.index)
    return rows.sort_values(["price_model_id", "_order"]).drop(columns="_order")


def _signed(fraction: float | None) -> str:
    text = percent(fraction)
    return text if text == MISSING or text.startswith("-") else f"+{text}"


def table(
    rows: pd.DataFrame, segments: list[str] | None = None, *, by: str = "segment"
) -> pd.DataFrame:
    """What a reader sees: per segment (then every segment together), or per proposal with
    by="proposal", how many accounts would switch, the revenue if nobody moves, under the forced
    switch and under choice (each with its change), and the adverse selection, written as people
    read them ($1.2M, +4.4%) under the glossary's labels, narrow enough for 1280 px."""
    rows = _ordered(rows, segments)
    frame = pd.DataFrame(index=rows.index)
    if by == "proposal":
        frame["Proposal"] = [
            f"{name} (option)" if offered == "option" else name
            for name, offered in zip(rows["name"], rows["offered_as"], strict=True)
        ]
    else:
        frame["Segment"] = segment_labels(rows["segment"])
    frame[header("is_choosing_proposal", "count")] = [
        f"{count(switching)} of {count(accounts)}"
        for switching, accounts in zip(rows["switching_accounts"], rows["accounts"], strict=True)
    ]
    frame[header("choice_current_revenue", "usd")] = rows["current_usd"].map(money)
    for metric, amount, change in (
        ("forced_switch_revenue", "forced_switch_usd", "forced_switch_change_pct"),
        ("choice_revenue", "choice_usd", "choice_change_pct"),
    ):
        frame[header(metric, "usd")] = [
            f"{money(value)} ({_signed(delta)})"
            for value, delta in zip(rows[amount], rows[change], strict=True)
        ]
    frame[header("adverse_selection", "usd")] = rows["adverse_selection_usd"].map(money)
    return frame.reset_index(drop=True)


def column_config(definition: Callable[[str], str]) -> dict:
    """Each header of `table` with its metric's definition on hover."""
    import streamlit as st

    # wide enough for a long name and its "(edited)" mark, which the what-if's rows carry
    config = {
        "Proposal": st.column_config.TextColumn(help=definition("customer_choice"), width="large")
    }
    for metric, unit in (
        ("is_choosing_proposal", "count"),
        ("choice_current_revenue", "usd"),
        ("forced_switch_revenue", "usd"),
        ("choice_revenue", "usd"),
        ("adverse_selection", "usd"),
    ):
        config[header(metric, unit)] = st.column_config.TextColumn(
            help=definition(metric), alignment="right"
        )
    return config


def download_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Every proposal x segment with exact numbers, for the CSV: the same headers, the changes as
    fractions, the window."""
    rows = _ordered(rows, None)
    frame = pd.DataFrame(
        {
            "Proposal": rows["name"],
            "Offered as": rows["offered_as"],
            "Segment": segment_labels(rows["segment"]),
        }
    )
    for column, metric, unit in SEGMENT_FIGURES:
        values = rows[column].astype("float64")
        frame[header(metric, unit)] = values.round().astype("Int64") if unit == "count" else values
    frame["Window from"] = rows["window_start_month"]
    frame["Window to"] = rows["as_of_month"]
    return frame.reset_index(drop=True)


def accounts_table(accounts: pd.DataFrame) -> pd.DataFrame:
    """The accounts that would switch, the largest saving first: id and name side by side, what
    each pays now and would pay on the proposal over the window, what it saves."""
    frame = pd.DataFrame(
        {
            "Account": accounts["account_id"],
            "Name": accounts["account_name"].fillna(""),
            "Segment": segment_labels(accounts["segment"]),
        }
    )
    for column, metric, unit in ACCOUNT_FIGURES:
        frame[header(metric, unit)] = accounts[column].astype("float64")
    return frame.reset_index(drop=True)


def accounts_column_config(definition: Callable[[str], str]) -> dict:
    import streamlit as st

    config = {"Name": st.column_config.TextColumn(width="medium")}
    for _, metric, unit in ACCOUNT_FIGURES:
        config[header(metric, unit)] = st.column_config.NumberColumn(
            format="dollar" if unit == "usd" else "percent", help=definition(metric)
        )
    return config


def card_text(row: pd.Series) -> str:
    """One line for a proposal's segment card: what offering it beside the seats would bring."""
    end = pd.Timestamp(row["as_of_month"])
    start = pd.Timestamp(row["window_start_month"])
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return (
        f"As an option: {money(row['choice_usd'])} under choice vs. "
        f"{money(row['forced_switch_usd'])} forced; {count(row['switching_accounts'])} of "
        f"{count(row['accounts'])} switch ({months} months to {end:%b %Y}, MRR)"
    )


def window_text(rows: pd.DataFrame) -> str:
    """ "Oct 2025 .. Mar 2026": the choice window of the rows (one window per build)."""
    if rows.empty:
        return ""
    start = pd.Timestamp(rows["window_start_month"].min())
    end = pd.Timestamp(rows["as_of_month"].max())
    return f"{start:%b %Y} .. {end:%b %Y}"


def with_edited(
    rows: pd.DataFrame | None, edited: pd.DataFrame, model: str, name: str
) -> pd.DataFrame | None:
    """The build's choice by segment with the edited proposal's rows replaced by the what-if's
    (the build's own rule over the edited book's shadow invoices), named as edited."""
    if rows is None or edited is None or edited.empty:
        return rows
    replaced = edited[edited["price_model_id"] == model].assign(name=name)
    if replaced.empty:
        return rows
    kept = rows[rows["price_model_id"] != model]
    return pd.concat(
        [kept, replaced[rows.columns.intersection(replaced.columns)]], ignore_index=True
    )


def edited_accounts(
    choices: pd.DataFrame,
    model: str,
    segments: tuple[str, ...],
    switching: bool,
    account_names: pd.DataFrame,
) -> pd.DataFrame:
    """The what-if's accounts that would take (or, with `switching` False, refuse) the edited
    proposal, in queries.choice_accounts' columns and order: the largest saving first."""
    rows = choices[
        (choices["price_model_id"] == model)
        & (choices["is_choosing_proposal"] == switching)
        & (choices["segment"].isin(segments) if segments else True)
    ]
    rows = rows.merge(account_names, on="account_id", how="left")
    return rows.sort_values(["saving_usd", "account_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def segment_row(rows: pd.DataFrame, segment: str) -> pd.Series | None:
    found = rows[rows["segment"] == segment]
    return None if found.empty else found.iloc[0]
