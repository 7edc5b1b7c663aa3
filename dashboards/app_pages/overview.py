"""Overview, for the revenue lead's weekly pricing review: which segment
has crossed the migration trigger, since when, on what evidence, with which proposal, and which
accounts to pilot first; the decision pack for the review. The router has already drawn the as-of
time and the sidebar filters; the threshold what-if controls are this page's own.
"""

import functools

import pandas as pd
import streamlit as st

from dashboards.lib import access, charts, choice, decision, pilot, queries, report
from dashboards.lib.definitions import definition, label, segment_label, threshold
from dashboards.lib.format import count, percent
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    MONTH_COLUMN,
    accept_ids_in_url,
    current_filters,
    data_table,
    default_unless,
    download_button,
    download_csv,
    explain,
    guarded,
    quietly,
    table_with_download,
    trigger_thresholds,
)
from dashboards.lib.shaping import signed_percent

FOCUS_KEY = "focus"  # the segment drilled into; in the URL (?focus=mid_market)
PILOT_MODEL_KEY = "pilot_model"  # the proposal of the pilot list; in the URL
PILOT_ROWS = 25

filters = current_filters()
thresholds = trigger_thresholds()
if thresholds is None:
    st.stop()
names = guarded(queries.price_model_names) or {}
if thresholds.changed:
    st.info(
        "What-if: the status below is re-judged with the thresholds set in the sidebar ("
        + ", ".join(
            f"{decision.setting_label(name)} {value:g}" for name, value in thresholds.changed
        )
        + "), by the build's own trigger SQL. The published build is unchanged.",
        icon=":material/tune:",
    )
    triggers = guarded(queries.trigger_what_if, thresholds.changed)
else:
    triggers = guarded(queries.migration_triggers)
if triggers is None:
    st.stop()
if triggers.empty:
    st.info("The warehouse holds no months to judge yet.")
    st.stop()

month = decision.as_of_month(triggers)
segments = filters.segments or decision.segments_of(triggers)
status = decision.latest_status(triggers, tuple(segments))
st.caption(
    f"Migration trigger at **{month:%B %Y}**, the last complete month of data.",
    help=definition("migration_trigger"),
)

# ---- the pilots running: a crossed rollback trigger is red here -------------------------------
rollback = quietly(queries.pilot_rollback_triggers)
if rollback is not None and not rollback.empty:
    for _pilot_model, judged in rollback.groupby("pilot_model_id", sort=True):
        pilot_name = str(judged["name"].iloc[0])
        evidence = pilot.crossed(judged)
        if evidence:
            st.error(
                f"**Pilot of {pilot_name}: roll back.** "
                + "; ".join(evidence)
                + ". The Pilot page has the readout.",
                icon=":material/undo:",
            )
        else:
            months = judged["months_observed"].max()
            st.caption(
                f"Pilot of **{pilot_name}**: no rollback trigger crossed after "
                f"{count(months)} months (the Pilot page has the readout).",
                help=definition("rollback_triggers"),
            )

# ---- a card per segment ----------------------------------------------------------------------


def _card(column, row: pd.Series) -> None:
    segment = row["segment"]
    state = row["segment_status"]
    with column.container(border=True):
        st.markdown(f"**{segment_label(segment)}**")
        st.badge(
            state.capitalize(),
            icon=decision.STATUS_ICONS[state],
            color=decision.STATUS_COLORS[state],
            help=definition("segment_status"),
        )
        since = decision.since_of(row)
        if since is not None:
            passing = decision.proposals_at(triggers, segment)
            passing = passing[passing["is_triggered"].astype(bool)]["price_model_id"]
            st.caption(f"since {since:%b %Y} with " + ", ".join(names.get(p, p) for p in passing))
        monthly = decision.signals_by_month(triggers, segment)
        trend = (monthly["automation_share"].astype("float64") * 100).round(1).tolist()
        kpi_row(
            {**row, "trend": trend},
            [Kpi("trigger_automation_share", "automation_share", chart="trend")],
            border=False,
        )
        checks = decision.signal_checks(row, thresholds.values)
        for check in checks.itertuples():
            if check.signal == "automation_share":
                continue
            # each signal with its definition on hover
            st.markdown(
                f"{_mark(check.met)} {label(check.metric)}: **{check.value_text}** "
                f"<small>({check.threshold_text})</small>",
                unsafe_allow_html=True,
                help=definition(check.metric),
            )


def _mark(met: bool | None) -> str:
    return {True: ":red[●]", False: ":gray[○]"}.get(met, ":gray[—]")


if status.empty:
    st.info("No segment in this selection has months of data.")
    st.stop()
columns = st.columns(len(status))
for column, (_, row) in zip(columns, status.iterrows(), strict=True):
    _card(column, row)
st.caption(
    "● meets the trigger's condition, ○ does not, — not enough history. Value is leaving the "
    "seats when automation is high and rising and seats stall while usage grows, or NRR or "
    "median utilization falls below its bar.",
    help=definition("is_value_leaving"),
)

# ---- one segment, in depth ---------------------------------------------------------------------

ranked = status.sort_values(["status_order", "segment"])
options = list(segments)
default_focus = str(ranked["segment"].iloc[0])
if st.session_state.get(FOCUS_KEY) not in options:
    st.session_state.pop(FOCUS_KEY, None)
focus_seeded = accept_ids_in_url(FOCUS_KEY, options, segment_label)
focus = st.segmented_control(
    "Look into",
    options,
    default=default_unless(focus_seeded, default_focus),
    format_func=segment_label,
    key=FOCUS_KEY,
    bind="query-params",
    required=True,
)
focus = focus or default_focus
focus_row = status[status["segment"] == focus].iloc[0]
since = decision.since_of(focus_row)
headline = {
    "crossed": f"crossed the trigger in {since:%B %Y}" if since is not None else "crossed",
    "watch": "on watch: value may be leaving the seats, but no proposal passes yet",
    "healthy": "healthy: seats still track value",
}[focus_row["segment_status"]]
st.subheader(f"{segment_label(focus)}: {headline}")

monthly = decision.signals_by_month(triggers, focus)
trend_specs = decision.TRENDS
signal_metrics = {signal.column: signal.metric for signal in decision.SIGNALS}
for row_start in range(0, len(trend_specs), 3):
    for column, (signal, setting, points) in zip(
        st.columns(3), trend_specs[row_start : row_start + 3], strict=False
    ):
        bound = thresholds.values.get(setting)
        bound_text = decision.signal_value_text(bound, "points" if points else "fraction")
        column.plotly_chart(
            charts.signal_trend(
                monthly,
                signal,
                label(signal_metrics[signal]),
                threshold=bound,
                threshold_label=bound_text,
                crossed_since=since,
                points=points,
            ),
            key=f"trend_{signal}",
            config={"displayModeBar": False},
        )
with st.expander("The signals by month (table)"):
    table_with_download(
        decision.signals_table(monthly),
        f"trigger_signals_{focus}.csv",
        key="signals_download",
        column_config={"Month": MONTH_COLUMN},
    )

# ---- the proposals' verdicts for the segment ---------------------------------------------------

st.markdown("#### Which proposal passes")
proposals = decision.proposals_at(triggers, focus)
shown = decision.proposals_table(proposals, names)
data_table(
    shown,
    hide_index=True,
    column_config={
        "Shadow bill-shock rate": st.column_config.NumberColumn(
            format="percent", help=definition("trigger_shadow_bill_shock_rate")
        ),
        "Revenue change": st.column_config.NumberColumn(
            format="percent", help=definition("trigger_revenue_delta_pct")
        ),
        "Proposal": st.column_config.TextColumn(width="medium"),
        "Verdict": st.column_config.TextColumn(width="small"),
    },
    column_order=[
        "Proposal",
        "Verdict",
        "Shadow bill-shock rate",
        "Revenue change",
        "Triggered since",
    ],
)
failing = shown[shown["Why it fails"] != ""]
if not failing.empty:
    st.markdown(
        "**Why the others fail:** "
        + "; ".join(
            f"{name}: {reason}"
            for name, reason in zip(failing["Proposal"], failing["Why it fails"], strict=True)
        )
        + "."
    )
st.caption(
    f"Judged over the trailing {int(proposals['window_months'].max())} months to {month:%b %Y}: "
    "a proposal passes when its shadow bill-shock rate is below the limit and its revenue "
    "change is within the range (sidebar).",
    help=definition("is_triggered"),
)

# The recommended proposal offered beside the seats: drawn here, filled once the pilot list below
# has settled which proposal that is (the one chosen there, else the Overview's recommendation).
choice_slot = st.container()

# ---- the pilot list ------------------------------------------------------------------------------

st.markdown("#### Pilot list")
passing = decision.pilot_proposals(triggers, focus)
pilot_model = None
# a proposal chosen in another segment, or named in a shared link, that fails here is never kept
if st.session_state.get(PILOT_MODEL_KEY) not in passing:
    st.session_state.pop(PILOT_MODEL_KEY, None)
accept_ids_in_url(PILOT_MODEL_KEY, passing, lambda model: names.get(model, model))
passing_labels = {names.get(model, model) for model in passing}
if PILOT_MODEL_KEY in st.query_params and st.query_params[PILOT_MODEL_KEY] not in passing_labels:
    del st.query_params[PILOT_MODEL_KEY]
if not passing:
    st.info(decision.no_pilot_list_text(triggers, focus), icon=":material/block:")
else:
    pilot_model = st.selectbox(
        "Proposal to pilot (those that pass the trigger here)",
        passing,
        index=0,
        format_func=lambda model: names.get(model, model),
        key=PILOT_MODEL_KEY,
        bind="query-params",
        help=definition("pilot_eligibility"),
    )
pilots = (
    guarded(queries.pilot_accounts, focus, pilot_model)
    if focus != "all" and pilot_model is not None
    else None
)
if focus == "all" and passing:
    st.info("Pick a segment to see its pilot list: pilots are chosen within one segment.")
elif pilots is not None and pilots.empty:
    st.info("No account of this segment paid in the window.")
elif pilots is not None:
    st.caption(
        decision.pilot_count_text(pilots, names.get(pilot_model, pilot_model))
        + f" The best {min(PILOT_ROWS, len(pilots))} by fit score below, every account in the "
        "download.",
        help=definition("pilot_eligibility"),
    )
    pilot_table = decision.pilot_table(pilots)
    data_table(
        decision.pilot_shown(pilot_table.head(PILOT_ROWS)),
        hide_index=True,
        column_config=decision.pilot_shown_column_config(definition),
    )
    download_csv(
        pilot_table,
        f"pilot_list_{focus}_{pilot_model}.csv",
        key="pilot_download",
        label="Download the pilot list (CSV)",
        role=access.FINANCE,  # account names and what each account pays: account-level
        context={"focus": focus, "price_model_id": pilot_model},
    )

# ---- customer choice: the proposal offered beside the seats ------------------------------------

CHOICE_KPIS = [
    Kpi("choice_current_revenue", "current_usd"),
    Kpi("forced_switch_revenue", "forced_switch_usd", delta="forced_change"),
    Kpi("choice_revenue", "choice_usd", delta="choice_change"),
    Kpi("adverse_selection", "adverse_selection_usd", delta="switching"),
]


def _choice_section(model: str, focus: str) -> None:
    """Revenue under the forced switch and under choice, per segment, for one proposal: the
    adverse selection the vendor bears by offering it beside the seats instead of moving
    everyone."""
    name = names.get(model, model)
    rows = guarded(queries.customer_choice_by_segment, (model,))
    if rows is None:
        return
    if rows.empty:
        st.markdown(f"#### {name}: forced switch or offered beside the seats")
        st.info("No account pays at the last month of data: there is nobody to offer a choice to.")
        return
    row = choice.segment_row(rows, focus)
    if row is None:
        row = choice.segment_row(rows, choice.PORTFOLIO)
        focus = choice.PORTFOLIO
    st.markdown(
        f"#### {name}: forced switch or offered beside the seats · {segment_label(focus)}",
        help=definition("customer_choice"),
    )
    figures = {
        **row,
        "forced_change": signed_percent(row["forced_switch_change_pct"]),
        "choice_change": signed_percent(row["choice_change_pct"]),
        "switching": f"{count(row['switching_accounts'])} of {count(row['accounts'])} switch",
    }
    kpi_row(figures, CHOICE_KPIS)
    data_table(
        choice.table(rows, list(segments)),
        hide_index=True,
        column_config=choice.column_config(definition),
    )
    offered = str(row["offered_as"])
    inertia = threshold("choice_inertia_pct")
    st.caption(
        "Changes are against the revenue if nobody moves. "
        f"MRR basis, summed over {choice.window_text(rows)}, for the accounts paying at "
        f"{month:%b %Y}. Offered beside the seats, an account takes {name} when it would have "
        f"paid less under it over those months, by at least {percent(inertia, 0)} of its bill; "
        "otherwise it stays. The price book offers it "
        + (
            "**as an option**: the revenue to expect is the revenue under choice."
            if offered == "option"
            else "**as a replacement** (everyone moves); the revenue under choice is what "
            "offering it as an option would bring instead."
        )
        + " Which accounts switch, and what each saves: the Shadow billing page.",
        help=definition("adverse_selection"),
    )


# the pilot list's proposal; else the segment's own suggestion (passing its guardrails where no
# proposal passes the trigger), else the portfolio's
recommended = (
    pilot_model
    or (decision.recommended_proposal(triggers, focus) if focus != "all" else None)
    or decision.recommended_proposal(triggers)
)
with choice_slot:
    if recommended is None:
        st.markdown(
            "#### Forced switch or offered beside the seats", help=definition("customer_choice")
        )
        st.info(
            "No proposal passes in any segment: none is recommended, so none is weighed as "
            "an option beside the seats here (the Shadow billing page weighs every one)."
        )
    else:
        _choice_section(recommended, focus)

# ---- the decision pack ---------------------------------------------------------------------------

st.markdown("#### Decision pack")
st.caption(
    "One HTML file for the review: the trigger status and its evidence, the proposals' shadow "
    "billing, this pilot list, the settings in force, the data's as-of time and quality. It "
    "opens offline; `seatshift report` writes the same file from the command line."
)
try:
    download_button(
        "Write the decision pack",
        # Written when clicked, not on every rerun: the pack inlines its charts' library.
        functools.partial(
            report.build_report_bytes,
            segment=focus,
            price_model_id=pilot_model,
            thresholds=thresholds.changed,
        ),
        file_name=report.file_name(focus, pilot_model),
        mime="text/html",
        key="decision_pack",
        role=access.FINANCE,  # it carries the pilot list: account-level
        context={
            "focus": focus,
            "price_model_id": pilot_model,
            "thresholds": dict(thresholds.changed),
        },
        icon=":material/description:",
        type="primary",
    )
except queries.QueryFailed as failure:
    explain(failure)
