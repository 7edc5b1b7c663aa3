"""The migration decision, shaped from fct_migration_triggers for the Overview and the decision
pack alike (so both show the same numbers): each segment's status at the latest month, the
signals that decide it against their thresholds, since when it crossed, each proposal's verdict,
and which proposal the pilot list should use.

The verdict itself is never computed here: it is the build's (fct_migration_triggers) or the
build's own SQL re-run under other thresholds (queries.trigger_what_if).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards.lib.definitions import segment_label
from dashboards.lib.format import MISSING, count, counted, percent, percent_against
from dashboards.lib.shaping import signed_percent_against, verdict_headline
from orchestration.lib.contract import EXPORTS

STATUS_ORDER = {"crossed": 0, "watch": 1, "healthy": 2}
STATUS_ICONS = {
    "crossed": ":material/flag:",
    "watch": ":material/visibility:",
    "healthy": ":material/check_circle:",
}
STATUS_COLORS = {"crossed": "red", "watch": "orange", "healthy": "green"}


# The signals of the migration trigger (docs block migration_trigger), each with the setting it is
# compared against, the
# comparison that meets it, and the metric whose definition explains it.
@dataclass(frozen=True)
class Signal:
    column: str
    metric: str
    setting: str
    meets: str  # ">=", "<=", "<", ">"
    unit: str  # "fraction" or "points"


SIGNALS = (
    Signal(
        "automation_share",
        "trigger_automation_share",
        "trigger_automation_share_min",
        ">=",
        "fraction",
    ),
    Signal(
        "automation_change_6m",
        "automation_change_6m",
        "trigger_automation_change_min",
        ">=",
        "points",
    ),
    Signal("seat_growth_6m", "seat_growth_6m", "trigger_seat_growth_max", "<=", "fraction"),
    Signal("usage_growth_6m", "usage_growth_6m", "trigger_usage_growth_min", ">", "fraction"),
    Signal("token_growth_6m", "token_growth_6m", "trigger_usage_growth_min", ">", "fraction"),
    Signal("nrr", "trigger_nrr", "trigger_nrr_max", "<", "fraction"),
    Signal(
        "median_seat_utilization",
        "median_seat_utilization",
        "utilization_red_flag",
        "<",
        "fraction",
    ),
)


# The trends a segment is judged on, as the Overview and the decision pack draw them: the signal,
# the setting drawn as its threshold line, and whether it is a change in points.
TRENDS = (
    ("automation_share", "trigger_automation_share_min", False),
    ("automation_change_6m", "trigger_automation_change_min", True),
    ("seat_growth_6m", "trigger_seat_growth_max", False),
    ("usage_growth_6m", "trigger_usage_growth_min", False),
    ("nrr", "trigger_nrr_max", False),
    ("median_seat_utilization", "utilization_red_flag", False),
)


def signal_value_text(value: float | None, unit: str) -> str:
    if unit == "points":
        return MISSING if pd.isna(value) else f"{float(value) * 100:+.1f} pts"
    return percent(value)


def is_met(value: float | None, meets: str, bound: float | None) -> bool | None:
    """Whether a signal meets its threshold (None: no value yet, or no threshold)."""
    if value is None or pd.isna(value) or bound is None:
        return None
    value, bound = round(float(value), 10), float(bound)
    return {
        ">=": value >= bound,
        "<=": value <= bound,
        "<": value < bound,
        ">": value > bound,
    }[meets]


def as_of_month(triggers: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(triggers["month"].max())


def segment_rows(triggers: pd.DataFrame, segment: str) -> pd.DataFrame:
    return triggers[triggers["segment"] == segment]


def signals_by_month(triggers: pd.DataFrame, segment: str) -> pd.DataFrame:
    """One row per month of a segment: its signals and status (the same on every proposal row)."""
    rows = segment_rows(triggers, segment)
    columns = [
        "month",
        "segment",
        "segment_status",
        "is_value_leaving",
        "accounts",
        "billable_seats",
        "tasks",
        "agent_tasks",
        "tokens",
    ]
    columns += [signal.column for signal in SIGNALS]
    return rows[columns].drop_duplicates("month").sort_values("month").reset_index(drop=True)


def latest_status(triggers: pd.DataFrame, segments: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per segment at the latest month: status, since when it crossed, and its signals."""
    month = as_of_month(triggers)
    rows = []
    for segment in segments or segments_of(triggers):
        monthly = signals_by_month(triggers, segment)
        if monthly.empty:
            continue
        latest = monthly[monthly["month"] == month]
        if latest.empty:
            continue
        row = latest.iloc[0].to_dict()
        row["crossed_since"] = crossed_since(triggers, segment)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["status_order"] = frame["segment_status"].map(STATUS_ORDER)
    return frame


def crossed_since(triggers: pd.DataFrame, segment: str) -> pd.Timestamp | None:
    """The first month of the segment's unbroken run of crossed months that ends at the latest
    month (the earliest triggered_since of the proposals that trigger now), or None."""
    month = as_of_month(triggers)
    now = segment_rows(triggers, segment)
    now = now[(now["month"] == month) & now["is_triggered"].astype(bool)]
    if now.empty:
        return None
    return pd.Timestamp(now["triggered_since"].min())


def since_of(status_row: pd.Series | dict) -> pd.Timestamp | None:
    """A status row's crossed_since as a timestamp, or None (pandas hands a missing one as NaT)."""
    since = status_row.get("crossed_since")
    return None if since is None or pd.isna(since) else pd.Timestamp(since)


def proposals_at(
    triggers: pd.DataFrame, segment: str, month: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Each proposal's verdict for a segment in a month (default the latest): viable or why not."""
    month = month if month is not None else as_of_month(triggers)
    rows = segment_rows(triggers, segment)
    rows = rows[rows["month"] == month]
    columns = [
        "price_model_id",
        "is_triggered",
        "is_proposal_viable",
        "triggered_since",
        "shadow_bill_shock_rate",
        "revenue_delta_pct",
        "proposal_failure_reason",
        "billed_account_months",
        "shocked_account_months",
        "shadow_usd",
        "actual_usd",
        "window_months",
    ]
    frame = rows[columns].copy()
    frame["verdict"] = frame["is_proposal_viable"].map({True: "passes", False: "fails"})
    return frame.sort_values(
        ["is_proposal_viable", "shadow_bill_shock_rate", "price_model_id"],
        ascending=[False, True, True],
    ).reset_index(drop=True)


def pilot_model(triggers: pd.DataFrame, segment: str) -> str | None:
    """The proposal the pilot list uses by default: the viable one whose revenue change is closest
    to zero (fewest surprises for customers and for revenue), else None."""
    proposals = proposals_at(triggers, segment)
    viable = proposals[proposals["is_proposal_viable"].astype(bool)]
    if viable.empty:
        return None
    order = viable.assign(distance=viable["revenue_delta_pct"].abs()).sort_values(
        ["distance", "price_model_id"]
    )
    return str(order["price_model_id"].iloc[0])


def passing_proposals(triggers: pd.DataFrame, segment: str) -> list[str]:
    """The proposals that pass in a segment at the latest month, the suggested one first: the
    only ones a pilot list may be offered for."""
    proposals = proposals_at(triggers, segment)
    viable = proposals[proposals["is_proposal_viable"].astype(bool)]
    suggested = pilot_model(triggers, segment)
    ids = [str(model) for model in viable["price_model_id"]]
    return sorted(ids, key=lambda model: (model != suggested, ids.index(model)))


def pilot_proposals(triggers: pd.DataFrame, segment: str) -> list[str]:
    """The proposals that pass the migration trigger in a segment at the latest month (value is
    leaving the seats there, and the proposal is within its guardrails), the one whose revenue
    change is closest to zero first: the only ones a pilot list is offered for (docs block
    pilot_eligibility). A segment whose seats still track value pilots nothing, however many
    proposals pass their guardrails there."""
    proposals = proposals_at(triggers, segment)
    triggered = proposals[proposals["is_triggered"].fillna(False).astype(bool)]
    order = triggered.assign(distance=triggered["revenue_delta_pct"].abs()).sort_values(
        ["distance", "price_model_id"]
    )
    return [str(model) for model in order["price_model_id"]]


def no_pilot_list_text(triggers: pd.DataFrame, segment: str) -> str:
    """Why a segment gets no pilot list (no proposal passes the trigger there): none passes its
    guardrails, or some do but value is not leaving the segment's seats."""
    month = as_of_month(triggers)
    guarded = passing_proposals(triggers, segment)
    if not guarded:
        return (
            f"No proposal passes in {segment_label(segment)} at {month:%b %Y}: no pilot list is "
            "offered. Why each proposal fails is in the table above."
        )
    return (
        f"{segment_label(segment)} does not cross the migration trigger at {month:%b %Y}: value "
        "is not leaving its seats, so no proposal passes the trigger there and no pilot list is "
        f"offered, although {counted(len(guarded), 'proposal')} "
        f"{'is' if len(guarded) == 1 else 'are'} within the guardrails."
    )


def recommended_proposal(triggers: pd.DataFrame, segment: str | None = None) -> str | None:
    """The proposal the Overview names, for the pages that default to it (Migration plan,
    Shadow billing, the decision pack): the suggested passing proposal of the segment; for every
    segment together, that of the segment most in need of a decision (crossed first). None when
    no proposal passes there."""
    if triggers.empty:
        return None
    if segment is None or segment == "all":
        status = latest_status(triggers).sort_values(["status_order", "segment"])
        for candidate in status["segment"]:
            model = pilot_model(triggers, str(candidate))
            if model is not None:
                return model
        return None
    return pilot_model(triggers, segment)


def signal_checks(
    status_row: pd.Series | dict, thresholds: dict[str, float | None]
) -> pd.DataFrame:
    """The signals of one segment-month against their thresholds, as rows for a card or table."""
    rows = []
    for signal in SIGNALS:
        value = status_row.get(signal.column)
        bound = thresholds.get(signal.setting)
        rows.append(
            {
                "signal": signal.column,
                "metric": signal.metric,
                "value": value,
                "value_text": signal_value_text(value, signal.unit),
                "threshold_text": f"{signal.meets} {signal_value_text(bound, signal.unit)}"
                if bound is not None
                else MISSING,
                "met": is_met(value, signal.meets, bound),
            }
        )
    return pd.DataFrame(rows)


def segments_of(triggers: pd.DataFrame) -> tuple[str, ...]:
    """The account segments of the trigger (not `all`), in the contract's order."""
    order = list(EXPORTS["accounts"].column("segment").allowed or ())
    present = [segment for segment in triggers["segment"].unique() if segment != "all"]
    return tuple(sorted(present, key=lambda s: (order.index(s) if s in order else len(order), s)))


def setting_label(name: str) -> str:
    """A setting's name as words: trigger_nrr_max -> "NRR max", min_revenue_delta_pct -> "Min
    revenue delta %"."""
    words = name.removeprefix("trigger_").removeprefix("guardrail_").split("_")
    text = " ".join(words).replace("nrr", "NRR").replace("pct", "%")
    return text[:1].upper() + text[1:]


SIGNAL_HEADERS = {
    "month": "Month",
    "segment_status": "Status",
    "automation_share": "Automation share",
    "automation_change_6m": "Automation change, 6 months (points)",
    "seat_growth_6m": "Seat growth, 6 months",
    "usage_growth_6m": "Usage growth, 6 months",
    "token_growth_6m": "Token growth, 6 months",
    "nrr": "NRR",
    "median_seat_utilization": "Median seat utilization",
    "billable_seats": "Billable seats",
    "tasks": "Tasks",
    "agent_tasks": "Agent tasks",
}


def signals_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """The signals by month with people's headers; ratios formatted as text (the CSV keeps them
    readable too), gaps where a signal has no value yet."""
    frame = monthly[list(SIGNAL_HEADERS)].copy()
    for column in ("automation_share", "seat_growth_6m", "usage_growth_6m", "token_growth_6m",
                   "nrr", "median_seat_utilization"):  # fmt: skip
        frame[column] = frame[column].map(percent)
    frame["automation_change_6m"] = frame["automation_change_6m"].map(
        lambda value: signal_value_text(value, "points")
    )
    for column in ("billable_seats", "tasks", "agent_tasks"):
        frame[column] = frame[column].map(lambda value: f"{int(value):,}")
    return frame.rename(columns=SIGNAL_HEADERS)


def latest_verdicts(triggers: pd.DataFrame) -> pd.DataFrame:
    """Every segment x proposal as the trigger judged it at the as-of month (the Overview's
    verdict): viable or why not, over the trailing window."""
    if triggers.empty:
        return triggers
    return triggers[triggers["month"] == as_of_month(triggers)]


def unpiloted_plan_text(
    verdicts: pd.DataFrame, model: str, name: str, scope: list[str]
) -> str | None:
    """The Migration plan's warning where `model` does not pass the migration trigger in some
    segment of `scope` (so no account there may pilot it): those where it fails its guardrails,
    and those where it passes them but the segment does not cross; None where it passes."""
    judged = verdicts[verdicts["price_model_id"] == model].set_index("segment")
    shown = [segment for segment in scope if segment in judged.index]
    failing = [s for s in shown if not bool(judged.loc[s, "is_proposal_viable"])]
    quiet = [
        s
        for s in shown
        if bool(judged.loc[s, "is_proposal_viable"]) and not bool(judged.loc[s, "is_triggered"])
    ]
    if not failing and not quiet:
        return None
    parts = []
    if failing:
        parts.append(
            f"{name} fails the trigger's guardrails in {', '.join(map(segment_label, failing))}"
        )
    if quiet:
        where = ", ".join(map(segment_label, quiet))
        parts.append(
            f"{name if not failing else 'it'} passes them in {where}, but value is not leaving "
            f"the seats there, so {where} does not cross the trigger"
        )
    return (
        "; ".join(parts)
        + f" ({window_text(verdicts)}), as the Overview says: no account there may pilot it, yet "
        "the plan moves them at their renewal all the same. Read the plan there as what the move "
        "would do, not as the recommendation."
    )


def running_pilot_plan_text(plan: pd.DataFrame, readout_months: object) -> str:
    """What the Migration plan does with a running pilot (fct_migration_plan rows of one
    proposal): the accounts already on the proposal (wave 0) and those held back for a pilot's
    readout, as a sentence to add to the page's caption; "" when there are neither."""
    if plan.empty:
        return ""
    on_proposal = int(plan["is_on_proposal"].fillna(False).astype(bool).sum())
    held = plan["held_until_month"].dropna()
    parts = []
    if on_proposal:
        parts.append(
            f" Wave 0 is the running pilot: {counted(on_proposal, 'account')} already on the "
            "proposal, left where they are."
        )
    if len(held):
        first, last = pd.Timestamp(held.min()), pd.Timestamp(held.max())
        when = f"{first:%b %Y}" if first == last else f"{first:%b %Y} .. {last:%b %Y}"
        months = f"{readout_months} months" if readout_months not in (None, "") else "its months"
        parts.append(
            f" {counted(len(held), 'account')} a pilot's readout follows (its control group, or "
            f"another proposal's pilot) {'is' if len(held) == 1 else 'are'} held until "
            f"{'its' if len(held) == 1 else 'their'} pilot's readout has {months} after the "
            f"switch ({when})."
        )
    return "".join(parts)


def window_text(verdicts: pd.DataFrame) -> str:
    """The trailing window of the verdicts, as a reader says it: "12 months to Oct 2026"."""
    month = pd.Timestamp(verdicts["month"].max())
    months = int(verdicts["window_months"].max())
    return f"{months} month{'s' if months != 1 else ''} to {month:%b %Y}"


def segment_verdict(verdicts: pd.DataFrame, segments: list[str], window: str) -> tuple[bool, str]:
    """A proposal's verdict by the trigger over `segments` (verdicts indexed by segment), as
    shaping.verdict_headline says it, with the trailing window: "passes in Mid-market (12 months
    to Oct 2026)"."""
    judged = [segment for segment in segments if segment in verdicts.index]
    passes, headline = verdict_headline(
        [segment for segment in judged if verdicts.loc[segment, "is_proposal_viable"]],
        [segment for segment in judged if not verdicts.loc[segment, "is_proposal_viable"]],
        [segment for segment in segments if segment not in verdicts.index],
        missing_as="no verdict in",
    )
    return passes, f"{headline} ({window})"


def verdict_figures(
    verdict: pd.Series,
    shock_limit: float | None = None,
    revenue_range: tuple[float | None, float | None] = (None, None),
) -> str:
    """The two figures the trigger judges a proposal by, as the Overview shows them, and why it
    fails when it does; each on the same side of its limits (the thresholds in force) as it is,
    so 0.049741 under a 5% limit reads 4.97%, never 5.0%."""
    figures = (
        f"revenue {signed_percent_against(verdict['revenue_delta_pct'], *revenue_range)} · "
        f"shadow bill shock {percent_against(verdict['shadow_bill_shock_rate'], shock_limit)}"
    )
    reason = verdict.get("proposal_failure_reason")
    return figures if pd.isna(reason) or not reason else f"{figures} · {reason}"


def proposals_table(proposals: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Proposal": [names.get(model, model) for model in proposals["price_model_id"]],
            "Verdict": proposals["verdict"],
            "Shadow bill-shock rate": proposals["shadow_bill_shock_rate"].astype("float64"),
            "Revenue change": proposals["revenue_delta_pct"].astype("float64"),
            "Triggered since": [
                "" if pd.isna(month) else f"{pd.Timestamp(month):%b %Y}"
                for month in proposals["triggered_since"]
            ],
            "Why it fails": proposals["proposal_failure_reason"].fillna(""),
        }
    )
    return frame


PILOT_HEADERS = {
    "fit_rank": "Rank",
    "account_id": "Account",
    "account_name": "Name",
    "is_pilot_eligible": "May pilot",
    "fit_score": "Fit score",
    "bill_change_pct": "Bill change",
    "automation_share": "Automation share",
    "margin_change": "Margin change (points)",
    "actual_usd": "MRR in the window (USD)",
    "shadow_usd": "On the proposal (USD)",
    "shocked_months": "Shocked months",
    "billable_seats": "Seats now",
    "ineligible_reason": "Why not",
}


def pilot_count_text(pilots: pd.DataFrame, model_name: str) -> str:
    """How many accounts of one segment may pilot a proposal, out of the accounts paying at the
    trigger's month (the base the revenue under choice counts too), then how many more were billed
    in the window but pay nothing now, and why each of the others may not (fct_pilot_accounts'
    own reasons, most common first)."""
    eligible = int(pilots["is_pilot_eligible"].sum())
    paying = pilots[pilots["is_active"].astype(bool)]
    segment = segment_label(str(pilots["segment"].iloc[0]))
    month = pd.Timestamp(pilots["as_of_month"].iloc[0])
    text = (
        f"{count(eligible)} of the {count(len(paying))} accounts of {segment} paying at "
        f"{month:%b %Y} may pilot {model_name} (never shocked in the window, and a bill change "
        "at the switch within the limits)"
    )
    lapsed = len(pilots) - len(paying)
    if lapsed:
        were, pay = ("was", "pays") if lapsed == 1 else ("were", "pay")
        text += f"; {count(lapsed)} more {were} billed in the window and {pay} nothing now"
    reasons = paying["ineligible_reason"].dropna().value_counts()
    if len(reasons):
        text += ". The others: " + "; ".join(
            f"{reason} ({count(int(accounts))})" for reason, accounts in reasons.items()
        )
    return text + "."


def pilot_table(pilots: pd.DataFrame) -> pd.DataFrame:
    frame = pilots[list(PILOT_HEADERS)].copy()
    for column in ("fit_score", "bill_change_pct", "automation_share", "actual_usd", "shadow_usd"):
        frame[column] = frame[column].astype("float64")
    frame["margin_change"] = frame["margin_change"].astype("float64") * 100
    frame["is_pilot_eligible"] = frame["is_pilot_eligible"].map({True: "yes", False: "no"})
    frame["ineligible_reason"] = frame["ineligible_reason"].fillna("")
    return frame.rename(columns=PILOT_HEADERS)


# What the Overview shows of the pilot list at 1280 px (the download has every column): whether an
# account may pilot and, if not, why, in one column; the widths add up to the page's content width.
PILOT_SHOWN_COLUMNS = {
    "Rank": 50,
    "Account": 85,
    "Name": 160,
    "May pilot": 110,
    "Fit score": 110,
    "Bill change": 90,
    "Margin change (points)": 100,
    "Automation share": 110,
}


def margin_points_shown(points: pd.Series) -> pd.Series:
    """Margin changes in points as the page and the pack show them, at the tenth: a change that
    shows as zero at that precision (under 0.05 points either way) is zero, so it reads +0.0, not
    -0.0. Every other value is left as it is for the format to round."""
    return points.mask(points.abs() < 0.05, 0.0)


def pilot_shown(table: pd.DataFrame) -> pd.DataFrame:
    """pilot_table's rows with the columns the page shows: `May pilot` reads "yes", or "no: " and
    the reason an account may not pilot; the margin change at the tenth shown
    (margin_points_shown). The download keeps pilot_table's values."""
    shown = table.copy()
    refused = shown["May pilot"] == "no"
    shown.loc[refused, "May pilot"] = "no: " + shown.loc[refused, "Why not"]
    shown["Margin change (points)"] = margin_points_shown(shown["Margin change (points)"])
    return shown[list(PILOT_SHOWN_COLUMNS)]


def pilot_column_config(definition) -> dict:
    import streamlit as st

    return {
        "Fit score": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="%.2f", help=definition("pilot_fit_score")
        ),
        "Bill change": st.column_config.NumberColumn(
            format="percent", help=definition("pilot_bill_change_pct")
        ),
        "Automation share": st.column_config.NumberColumn(format="percent"),
        "Margin change (points)": st.column_config.NumberColumn(
            "Margin change", format="%+.1f pts", help=definition("pilot_margin_change")
        ),
        "MRR in the window (USD)": st.column_config.NumberColumn(
            format="dollar", help=definition("mrr")
        ),
        "On the proposal (USD)": st.column_config.NumberColumn(format="dollar"),
        "Seats now": st.column_config.NumberColumn(format="localized"),
        "May pilot": st.column_config.TextColumn(help=definition("pilot_eligibility")),
        "Why not": st.column_config.TextColumn(width="medium"),
        "Name": st.column_config.TextColumn(width="medium"),
    }


def pilot_shown_column_config(definition) -> dict:
    """pilot_column_config with the widths of PILOT_SHOWN_COLUMNS."""
    import streamlit as st

    config = pilot_column_config(definition)
    for column, width in PILOT_SHOWN_COLUMNS.items():
        config.setdefault(column, st.column_config.Column())
        config[column]["width"] = width
    return config
