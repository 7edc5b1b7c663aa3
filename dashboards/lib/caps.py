"""Spend caps, shaped for the Shadow billing page and the decision pack: per proposal and
segment, which caps it carries, how often the uncapped bill passed them, the revenue a hard cap
gave up, the usage it blocked and the bill shock it avoided (docs block spend_cap).

The figures are the marts' (fct_price_model_guardrails for the model's totals,
fct_shadow_spend_caps for each capped line), or the what-if's re-rating of an edited proposal in
the same columns; every header is the glossary's label of the metric.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from dashboards.lib.definitions import label, segment_label, segment_labels
from dashboards.lib.format import MISSING, count, money, number

PORTFOLIO = "all"
WHOLE_BILL = "model_cap"  # the line of a model's own cap (the rating engine's component id)

# Words for a label the build has not published (before the first refresh with these metrics).
FALLBACK_LABELS = {
    "spend_cap": "Spend cap",
    "over_cap_months": "Months at the cap",
    "revenue_given_up": "Revenue given up",
    "blocked_units": "Usage blocked",
    "bill_shock_avoided": "Bill shock avoided",
}
# The columns of the table, each a glossary metric.
COLUMNS = (
    "spend_cap",
    "over_cap_months",
    "revenue_given_up",
    "blocked_units",
    "bill_shock_avoided",
)


def header(metric: str) -> str:
    return label(metric, FALLBACK_LABELS.get(metric))


def capped_models(caps: pd.DataFrame) -> list[str]:
    """The models with at least one capped line, in the order of the rows."""
    return list(dict.fromkeys(caps["price_model_id"])) if not caps.empty else []


def _cap_text(rows: pd.DataFrame) -> str:
    """ "tokens $500 hard; whole bill $2,000 soft": the model's caps, one per capped line."""
    parts = []
    for _, row in rows.drop_duplicates("component_id").iterrows():
        line = "whole bill" if row["component_id"] == WHOLE_BILL else str(row["component_id"])
        policy = row.get("cap_policy") or "hard"
        parts.append(f"{line} {money(row.get('cap_amount_usd'))} {policy}")
    return "; ".join(parts) or MISSING


def _blocked_text(rows: pd.DataFrame) -> str:
    """ "12,345 tokens units": the usage each hard-capped component blocked, 0 for none; a
    whole-bill cap stops every metric at once and counts no units (shown as missing)."""
    parts = []
    components = rows[rows["component_id"] != WHOLE_BILL]
    for _, row in components.iterrows():
        blocked = row.get("blocked_units")
        if pd.isna(blocked) or float(blocked) == 0:
            continue
        parts.append(f"{number(float(blocked), 0)} {row['metric'] or row['component_id']} units")
    if parts:
        return "; ".join(parts)
    return "0" if not components.empty else MISSING


def table(
    caps: pd.DataFrame,
    guardrails: pd.DataFrame,
    names: dict[str, str],
    segments: list[str] | None = None,
) -> pd.DataFrame:
    """One row per capped proposal and segment (then every segment together): its caps, the
    months its uncapped bill passed one, the revenue its hard caps gave up, the usage they
    blocked, and the bill shock they avoided, under the glossary's labels."""
    order = [*(segments or []), PORTFOLIO]
    if not segments:
        order = [*sorted(s for s in caps["segment"].unique() if s != PORTFOLIO), PORTFOLIO]
    rows = []
    for model in capped_models(caps):
        for segment in order:
            lines = caps[(caps["price_model_id"] == model) & (caps["segment"] == segment)]
            if lines.empty:
                continue
            totals = guardrails[
                (guardrails["price_model_id"] == model) & (guardrails["segment"] == segment)
            ]
            total = totals.iloc[0] if not totals.empty else pd.Series(dtype=object)
            rows.append(
                {
                    "Proposal": names.get(model, model),
                    "Segment": segment_label(segment),
                    header("spend_cap"): _cap_text(lines),
                    header("over_cap_months"): count(total.get("over_cap_account_months")),
                    header("revenue_given_up"): money(total.get("revenue_given_up_usd")),
                    header("blocked_units"): _blocked_text(lines),
                    header("bill_shock_avoided"): count(
                        total.get("bill_shock_avoided_account_months")
                    ),
                }
            )
    return pd.DataFrame(rows, columns=["Proposal", "Segment", *(header(m) for m in COLUMNS)])


def column_config(definition: Callable[[str], str]) -> dict:
    """Each header of `table` with its metric's definition on hover."""
    import streamlit as st

    config = {}
    for metric in COLUMNS:
        config[header(metric)] = st.column_config.TextColumn(
            help=definition(metric),
            alignment="left" if metric in ("spend_cap", "blocked_units") else "right",
        )
    return config


def download_table(
    caps: pd.DataFrame, guardrails: pd.DataFrame, names: dict[str, str]
) -> pd.DataFrame:
    """Every capped line of every proposal and segment with exact numbers, for the CSV, with the
    bill shock the proposal's caps avoided in the segment (one figure per proposal)."""
    avoided = {
        (model, segment): value
        for model, segment, value in zip(
            guardrails["price_model_id"],
            guardrails["segment"],
            guardrails["bill_shock_avoided_account_months"],
            strict=True,
        )
    }
    return pd.DataFrame(
        {
            "Proposal": caps["price_model_id"].map(lambda model: names.get(model, model)),
            "Segment": segment_labels(caps["segment"]),
            "Capped line": caps["component_id"].replace({WHOLE_BILL: "whole bill"}),
            "Metric": caps["metric"],
            "Policy": caps.get("cap_policy"),
            header("spend_cap"): caps.get("cap_amount_usd"),
            header("over_cap_months"): caps["over_cap_account_months"],
            "Accounts at the cap": caps["over_cap_accounts"],
            header("revenue_given_up"): caps["revenue_given_up_usd"].astype("float64"),
            header("blocked_units"): caps["blocked_units"].astype("float64"),
            f"{header('bill_shock_avoided')} (the proposal's)": [
                avoided.get((model, segment))
                for model, segment in zip(caps["price_model_id"], caps["segment"], strict=True)
            ],
        }
    ).reset_index(drop=True)


def with_edited(
    caps: pd.DataFrame, edited_caps: pd.DataFrame, model: str, components: pd.DataFrame,
    model_caps: pd.DataFrame | None,
) -> pd.DataFrame:  # fmt: skip
    """The build's caps with the edited proposal's rows replaced by its re-rating's, each line's
    cap and policy taken from the edit."""
    edited = edited_caps[edited_caps["price_model_id"] == model].copy()
    policies: dict[str, tuple[object, str]] = {}
    for _, row in components.iterrows():
        policies[str(row["component_id"])] = (row.get("cap_amount"), row.get("cap_policy"))
    if model_caps is not None and not model_caps.empty:
        row = model_caps.iloc[0]
        policies[WHOLE_BILL] = (row.get("cap_amount"), row.get("cap_policy"))

    def _amount(component: str) -> float | None:
        value = policies.get(component, (None, ""))[0]
        try:
            return float(value) if str(value).strip() else None
        except (TypeError, ValueError):
            return None

    edited["cap_amount_usd"] = edited["component_id"].map(_amount)
    edited["cap_policy"] = edited["component_id"].map(
        lambda component: (
            (str(policies.get(component, ("", ""))[1] or "").strip().lower()) or "hard"
        )
    )
    kept = caps[caps["price_model_id"] != model] if not caps.empty else caps
    return pd.concat([kept, edited], ignore_index=True) if not edited.empty else kept
