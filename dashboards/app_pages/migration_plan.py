"""Migration plan, for the revenue lead and account managers: for a segment and a proposal, the
accounts in waves with their old and new monthly bill and transition credit, what the plan does to
revenue and bill shock, and the paper invoice to send a customer (fct_migration_plan,
rpt_migration_plan_impact). The router has already drawn the as-of time and the sidebar filters."""

import streamlit as st

from dashboards.lib import access, charts, decision, paper_invoice, pilot, queries, road_ahead
from dashboards.lib.definitions import definition, label, settings
from dashboards.lib.format import count, money, percent
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    data_table,
    download_button,
    download_csv,
    explain,
    guarded,
    quietly,
    segment_picker,
    table_with_download,
)
from dashboards.lib.shaping import PORTFOLIO

SEGMENT_KEY = "plan_segment"
MODEL_KEY = "plan_model"
ACCOUNT_KEY = "plan_paper_account"

models = guarded(queries.price_models)
segments = guarded(queries.segments)
if models is None or segments is None:
    st.stop()
proposals = models[~models["is_current_model"].astype(bool)]
names = dict(zip(proposals["price_model_id"], proposals["name"], strict=True))
if not names:
    st.info("The price book holds no proposal to plan a migration to.")
    st.stop()

with st.sidebar:
    st.header("Migration plan")
    segment = segment_picker(segments, SEGMENT_KEY)
    triggers = quietly(queries.migration_triggers)
    recommended = decision.recommended_proposal(triggers, segment) if triggers is not None else None
    passing = set(decision.passing_proposals(triggers, segment)) if triggers is not None else set()
    model = st.selectbox(
        "Proposal",
        list(names),
        index=list(names).index(recommended) if recommended in names else 0,
        key=MODEL_KEY,
        format_func=lambda m: names.get(m, m) + ("  (passes)" if m in passing else ""),
        help="Every proposal the Overview judges; the one it recommends comes selected.",
    )

plan = guarded(queries.migration_plan, segment, model)
waves = guarded(queries.migration_waves, segment, model)
impact = guarded(queries.migration_plan_impact, segment, model)
if plan is None or waves is None or impact is None:
    st.stop()
if plan.empty:
    st.info("No account of this segment pays at the as-of month: nobody to migrate.")
    st.stop()

in_force = settings()
st.caption(
    f"Wave 1 pilots the best-fitting {in_force.get('migration_pilot_accounts', '?')} eligible "
    "accounts of each segment at the plan's start; the others switch at their renewal, in waves "
    f"of {in_force.get('migration_wave_months', '?')} months. The transition credit caps any "
    f"increase at {float(in_force.get('migration_max_increase_pct') or 0):.0%} for "
    f"{in_force.get('migration_grandfathering_months', '?')} months."
    + decision.running_pilot_plan_text(plan, in_force.get("readout_history_months")),
    help=definition("migration_plan"),
)

# ---- what the decision says about this plan: a failing verdict or a crossed rollback trigger ----
verdicts = decision.latest_verdicts(triggers) if triggers is not None else None
if verdicts is not None and not verdicts.empty:
    scope = list(segments) if segment == PORTFOLIO else [segment]
    said = decision.unpiloted_plan_text(verdicts, model, names[model], scope)
    if said:
        st.warning(said, icon=":material/warning:")
rollback = quietly(queries.pilot_rollback_triggers)
if rollback is not None:
    evidence = pilot.crossed(rollback[rollback["pilot_model_id"] == model])
    if evidence:
        st.error(
            f"The pilot of {names[model]} has crossed a rollback trigger (the Pilot page): "
            + "; ".join(evidence)
            + ". Later waves should wait for the pilot's verdict.",
            icon=":material/undo:",
        )

# ---- KPI row ----------------------------------------------------------------------------------
first_year = road_ahead.impact_totals(impact, 12)
kpi_row(
    {
        "accounts": len(plan),
        "credits": float(plan["transition_credit_total_usd"].sum()),
        "shocked_without_credit": int(plan["is_bill_shock_without_credit"].sum()),
        "shocked_with_credit": int(plan["is_bill_shock_at_switch"].sum()),
        "plan_mrr": first_year["plan_projected_revenue_usd"],
        "if_nobody_moves": f"{money(first_year['current_projected_revenue_usd'])} if nobody moves",
        "plan_choice_mrr": first_year.get("plan_choice_projected_revenue_usd"),
        "choosing": f"{count(int(impact['choosing_accounts'].max()))} of {count(len(plan))} "
        "take the proposal"
        if "choosing_accounts" in impact and not impact.empty
        else None,
    },
    [
        Kpi("migration_plan", "accounts", "Accounts in the plan"),
        Kpi("transition_credit", "credits", "Transition credits, whole plan"),
        Kpi(
            "migration_shock_at_switch",
            "shocked_without_credit",
            "Shocked at the switch, without the credit",
            unit="count",
        ),
        Kpi(
            "migration_shock_at_switch",
            "shocked_with_credit",
            "Shocked at the switch, with the credit",
            unit="count",
        ),
        Kpi(
            "migration_plan_impact",
            "plan_mrr",
            "Plan: MRR, next 12 months (middle)",
            delta="if_nobody_moves",
        ),
        Kpi(
            "migration_plan_choice",
            "plan_choice_mrr",
            "{label}: MRR, next 12 months (middle)",
            delta="choosing",
        ),
    ],
    fit=True,
)

# ---- waves and revenue --------------------------------------------------------------------
st.subheader("Waves")
data_table(
    waves,
    hide_index=True,
    # the accounts held for a readout beside the wave's count, not past the table's right edge
    column_order=[
        "wave",
        "first_switch_month",
        "last_switch_month",
        "accounts",
        "held_accounts",
        "current_monthly_usd",
        "proposed_monthly_usd",
        "delta_pct",
        "credited_accounts",
        "transition_credit_total_usd",
        "shocked_without_credit",
        "shocked_at_switch",
    ],
    column_config={
        "wave": "Wave",
        "first_switch_month": st.column_config.DateColumn("First switch", format="MMM YYYY"),
        "last_switch_month": st.column_config.DateColumn("Last switch", format="MMM YYYY"),
        "accounts": st.column_config.NumberColumn("Accounts", format="localized"),
        "current_monthly_usd": st.column_config.NumberColumn("MRR now", format="dollar"),
        "proposed_monthly_usd": st.column_config.NumberColumn(
            "MRR on the proposal", format="dollar"
        ),
        "delta_pct": st.column_config.NumberColumn("Change", format="percent"),
        "credited_accounts": st.column_config.NumberColumn("Credited", format="localized"),
        "transition_credit_total_usd": st.column_config.NumberColumn("Credits", format="dollar"),
        "shocked_without_credit": st.column_config.NumberColumn(
            "Shocked without credit",
            format="localized",
            help=definition("migration_shock_at_switch"),
        ),
        "shocked_at_switch": st.column_config.NumberColumn(
            "Shocked with credit", format="localized", help=definition("migration_shock_at_switch")
        ),
        "held_accounts": st.column_config.NumberColumn(
            "Held for a readout", format="localized", help=definition("migration_plan")
        ),
    },
)
st.subheader("What the plan does to MRR")
st.caption(
    f"MRR of the plan's {count(len(plan))} {label('revenue_existing_base').lower()}, middle "
    "scenario of the projection; staying on the current model is the Projection page's line. "
    "Offered as an option, only the accounts that would take the proposal follow the plan.",
    help=definition("revenue_vocabulary"),
)
st.plotly_chart(charts.plan_impact_lines(road_ahead.impact_long(impact)), key="plan_impact")
download_csv(impact, f"seatshift_plan_impact_{segment}_{model}.csv", key="impact_csv")

# ---- accounts -----------------------------------------------------------------------------
st.subheader("Accounts: MRR now and on the proposal")
st.caption(
    "Change at the switch sets the proposal's bill of the as-of month against that month's MRR, "
    "what the account meets when it moves (and what the credit caps). Change over the window is "
    f"the pilot list's, over the trailing {in_force.get('trigger_window_months', '?')} months, "
    "which the pilot's limits judge "
    f"({percent(float(in_force.get('pilot_min_bill_change_pct') or 0))} .. "
    f"+{percent(float(in_force.get('pilot_max_bill_change_pct') or 0))}): one month's usage can "
    "set the two apart."
    + (
        " Wave 0 has no change over the window: it is already on the proposal."
        if plan["is_on_proposal"].any()
        else ""
    )
)
# the figures a reader compares first (when, the two bills, the two changes, the credit) before
# the columns that explain them, so that they show without scrolling at 1280 px
accounts_config = {
    "wave": "Wave",
    "account_id": "Account",
    "account_name": st.column_config.TextColumn("Name", width="small"),
    "switch_month": st.column_config.DateColumn("Switch", format="MMM YYYY"),
    "current_monthly_usd": st.column_config.NumberColumn(
        "MRR now", format="dollar", help=definition("mrr")
    ),
    "proposed_monthly_usd": st.column_config.NumberColumn(
        "MRR on the proposal", format="dollar", help=definition("revenue_vocabulary")
    ),
    "delta_pct": st.column_config.NumberColumn("Change at the switch", format="percent"),
    "window_bill_change_pct": st.column_config.NumberColumn(
        "Change over the window", format="percent", help=definition("pilot_bill_change_pct")
    ),
    "transition_credit_usd": st.column_config.NumberColumn(
        "Credit a month", format="dollar", help=definition("transition_credit")
    ),
    "billed_at_switch_usd": st.column_config.NumberColumn("Billed at switch", format="dollar"),
    "is_bill_shock_without_credit": st.column_config.CheckboxColumn(
        "Shock without credit", help=definition("migration_shock_at_switch")
    ),
    "held_until_month": st.column_config.DateColumn(
        "Held until", format="MMM YYYY", help=definition("migration_plan")
    ),
    "renewal_date": st.column_config.DateColumn("Renewal", format="YYYY-MM-DD"),
    "segment": "Segment",
    "fit_score": st.column_config.NumberColumn("Fit", format="%.2f"),
    "fit_rank": "Fit rank",
}
if segment != PORTFOLIO:  # one segment: the column would repeat it on every row
    del accounts_config["segment"]
table_with_download(
    plan,
    f"seatshift_migration_plan_{segment}_{model}.csv",
    key="plan_csv",
    column_config=accounts_config,
    download_role=access.FINANCE,  # account-level bills
    context={"segment": segment, "price_model_id": model},
    column_order=list(accounts_config),
    height=360,
)

# ---- the paper invoice ----------------------------------------------------------------------
st.subheader("Paper invoice")
account_names = dict(zip(plan["account_id"], plan["account_name"], strict=True))
account = st.selectbox(
    "Account",
    list(account_names),
    key=ACCOUNT_KEY,
    format_func=lambda a: f"{a} — {account_names[a]}",
    width=420,
)
try:
    paper_name, paper_html = paper_invoice.build_paper_invoice(account, model)
except queries.QueryFailed as failure:
    explain(failure)
else:
    st.caption(
        "The account's last billed month, old and new invoice line by line, in one HTML file "
        "that opens offline."
    )
    download_button(
        "Download the paper invoice",
        paper_html.encode("utf-8"),
        file_name=paper_name,
        mime="text/html",
        key="paper_invoice_download",
        role=access.FINANCE,  # an account's invoices
        context={"account_id": account, "price_model_id": model},
        icon=":material/receipt:",
    )
