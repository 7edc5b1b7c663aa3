"""Pilot, for the revenue lead once accounts have really switched: each piloted proposal against
its control group before and after the switch (difference in differences with bootstrap
intervals), the months of both arms around the switch, how alike the arms were before, and the
rollback triggers with their thresholds, and the prediction made at the switch beside what happened
(fct_pilot_readout, fct_pilot_readout_monthly, fct_pilot_match_quality, fct_pilot_rollback_triggers,
fct_pilot_prediction). The router has already drawn the as-of time
and the sidebar filters (the readout follows the pilot's own accounts, not the segment filter)."""

import streamlit as st

from dashboards.lib import charts, pilot, queries
from dashboards.lib.definitions import definition, threshold
from dashboards.lib.format import count
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import data_table, download_csv, guarded

PILOT_KEY = "pilot_page_model"
METRIC_KEY = "pilot_page_metric"

readout = guarded(queries.pilot_readout)
triggers = guarded(queries.pilot_rollback_triggers)
if readout is None or triggers is None:
    st.stop()
if readout.empty:
    st.info(
        "No pilot yet: the billing system's `price_model_assignments` export names no account "
        "moved to a proposal with the cohort `pilot`. Once it does, the pilot is read out here "
        "against a control group.",
        icon=":material/science:",
    )
    st.stop()

names = dict(zip(readout["pilot_model_id"], readout["name"], strict=False))
with st.sidebar:
    st.header("Pilot")
    model = st.selectbox(
        "Piloted proposal",
        list(names),
        key=PILOT_KEY,
        format_func=lambda m: names.get(m, m),
    )
rows = readout[readout["pilot_model_id"] == model]
judged = triggers[triggers["pilot_model_id"] == model]
first = rows.iloc[0]

st.caption(
    f"**{names.get(model, model)}**: {count(first['pilot_accounts'])} pilot accounts against "
    f"{count(first['control_accounts'])} control accounts, "
    f"{count(first['months_observed'])} months observed since the switch.",
    help=definition("pilot_readout"),
)

# ---- the rollback triggers first: a crossed one is the news ---------------------------------
evidence = pilot.crossed(judged)
if evidence:
    st.error(
        "**Roll back**: a rollback trigger is crossed.\n\n" + "\n".join(f"- {e}" for e in evidence),
        icon=":material/undo:",
    )
else:
    st.success(
        f"No rollback trigger crossed after {count(first['months_observed'])} months.",
        icon=":material/check_circle:",
    )

kpi_row(
    {
        "accounts": first["pilot_accounts"],
        "control": first["control_accounts"],
        "months": first["months_observed"],
    },
    [
        Kpi("pilot_readout", "accounts", "Pilot accounts", unit="count"),
        Kpi("pilot_control_group", "control", "Control accounts", unit="count"),
        Kpi("pilot_readout", "months", "Months observed", unit="count"),
    ],
)

st.subheader("Pilot against control, before and after the switch")
table = pilot.readout_table(rows)
data_table(
    table,
    hide_index=True,
    column_config={
        column: st.column_config.TextColumn(help=definition("difference_in_differences"))
        for column in table.columns
        if column.startswith("Effect (")
    }
    | {
        "Shown": st.column_config.TextColumn(
            help="Whether the interval excludes 0: a difference the pilot has shown (yes), or "
            "one the interval still holds 0 for (not yet)."
        )
    },
)
download_csv(rows.drop(columns=["name"]), f"seatshift_pilot_readout_{model}.csv", key="pilot_csv")

st.subheader("Rollback triggers")
data_table(
    pilot.trigger_table(judged),
    hide_index=True,
    column_config={"Trigger": st.column_config.TextColumn(help=definition("rollback_triggers"))},
)

# ---- the months around the switch --------------------------------------------------------------
monthly = guarded(queries.pilot_readout_monthly, model)
if monthly is not None and not monthly.empty:
    st.subheader("Month by month around the switch")
    metric = st.selectbox(
        "Metric",
        [m for m in pilot.METRICS if m in set(monthly["metric"])],
        key=METRIC_KEY,
        format_func=pilot.metric_label,
        width=420,
    )
    line = pilot.threshold_line(metric, judged)
    st.plotly_chart(
        charts.pilot_months(
            monthly[monthly["metric"] == metric],
            pilot.metric_label(metric),
            line,
            percent_axis=pilot.metric_unit(metric) == "fraction",
        ),
        key="pilot_months_chart",
    )
    download_csv(monthly, f"seatshift_pilot_months_{model}.csv", key="pilot_months_csv")

# ---- the forecast judged too: predicted at the switch, and what happened ----------------------
prediction = guarded(queries.pilot_prediction, model)
if prediction is not None and not prediction.empty:
    st.subheader("Predicted at the switch, and what happened")
    summary = pilot.prediction_summary(prediction, rows)
    st.caption(
        (summary + " " if summary else "")
        + "Per account, a month on average: its MRR before the switch under the current model, "
        "what shadow billing charged it under the piloted model over those months (Predicted), "
        "and its MRR since the switch, billed under that model (Paid since); Paid against "
        "predicted sets the two side by side (the prediction error); Months counts the paying "
        "months before / after the switch.",
        help=definition("pilot_prediction"),
    )
    data_table(pilot.prediction_table(prediction), hide_index=True)
    download_csv(
        prediction.drop(columns=["account_name"]),
        f"seatshift_pilot_prediction_{model}.csv",
        key="pilot_prediction_csv",
    )

# ---- how alike the arms were ------------------------------------------------------------------
quality = guarded(queries.pilot_match_quality, model)
if quality is not None and not quality.empty:
    st.subheader("The control group: how alike the arms were before the switch")
    st.caption(
        pilot.match_summary(quality, threshold("pilot_match_max_standardised_difference")),
        help=definition("pilot_control_group"),
    )
    data_table(pilot.match_table(quality), hide_index=True)
