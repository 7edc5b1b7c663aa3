"""Value shift, for the Product manager: is value leaving the seats? Automation share by segment,
the features and model tiers agents use against humans, seats against usage per seat, margin by
account with the power users marked, and bill shock over time. The router has already drawn the
as-of time and the sidebar filters (segment, period)."""

import streamlit as st

from dashboards.lib import access, charts, queries, shaping
from dashboards.lib.definitions import definition, label, segment_label, threshold
from dashboards.lib.format import MISSING, count, counted, number, percent, text
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    MONTH_COLUMN,
    current_filters,
    data_table,
    guarded,
    quietly,
    revenue_portfolio,
    table_with_download,
)

BILL_SHOCK_GOOD = threshold("guardrail_max_bill_shock_rate")  # the build's settings
BILL_SHOCK_RED_FLAG = threshold("bill_shock_rate_red_flag")
# The usage mix: what it can be read by, and the measures it can show.
MIX_DIMENSIONS = {"feature": "By feature", "model_tier": "By model tier"}
MIX_NAMING = {"feature": "{}", "model_tier": "the {} tier"}  # "... of their tasks on <this>"
MIX_HEADERS = {"feature": "Feature", "model_tier": "Model tier", "actor": "Who"}
MIX_MEASURES = {
    "tasks": "Tasks",
    "tokens": "Tokens (input + output)",
    "share_of_actor_tasks": "Share of the actor's tasks",
}


def _setting_description(name: str) -> str:
    """What a setting decides, as the build describes it (rpt_settings); empty when unread."""
    in_force = quietly(queries.settings_in_force)
    if in_force is None or name not in set(in_force["name"]):
        return ""
    description = text(in_force.set_index("name").loc[name, "description"])
    return "" if description == MISSING else description


filters = current_filters()
portfolio = revenue_portfolio(filters)
by_segment = guarded(queries.automation_by_segment, filters.period)
accounts = guarded(queries.account_value, filters.segments, filters.period)
shock = guarded(queries.bill_shock_monthly, filters.segments, filters.period)

# ---- KPI row ---------------------------------------------------------------------------------
if portfolio is not None:
    latest = shaping.latest_rows(portfolio)
    st.caption(f"{filters.scope_heading}, month ending {shaping.latest_month(portfolio):%b %Y}.")
    for segment, row in latest.set_index("segment").iterrows():
        kpi_row(
            row,
            [
                Kpi("automation_share", "automation_share"),
                Kpi("usage_per_seat", "tasks_per_seat", "Tasks per seat"),
                Kpi("gross_margin", "gross_margin"),
                Kpi("power_user", "power_user_accounts", "Power users", unit="count"),
            ],
            suffix="" if len(latest) == 1 else f" · {segment_label(segment)}",
        )

# ---- automation share ------------------------------------------------------------------------
st.subheader("Automation share by segment", help=definition("automation_share"))
if by_segment is not None and not by_segment.empty:
    left, right = st.columns(2)
    automation = charts.segment_lines(
        by_segment,
        "automation_share",
        labels={"month": "Month", "automation_share": "Agent tasks / all tasks"},
        title="Automation share",
    )
    automation.update_yaxes(tickformat=".0%", rangemode="tozero")
    left.plotly_chart(charts.legend_below(automation), width="stretch")
    per_seat = charts.segment_lines(
        by_segment,
        "tasks_per_seat",
        labels={"month": "Month", "tasks_per_seat": "Tasks per billable seat"},
        title="Tasks per seat",
    )
    per_seat.update_yaxes(rangemode="tozero")
    right.plotly_chart(charts.legend_below(per_seat), width="stretch")
    with st.expander("Automation and usage per seat table"):
        table_with_download(
            by_segment,
            "automation_by_segment.csv",
            key="value_shift_automation_download",
            column_config={
                "month": MONTH_COLUMN,
                "automation_share": st.column_config.NumberColumn(format="percent"),
                "seat_utilization": st.column_config.NumberColumn(format="percent"),
            },
        )

# ---- what agents work on, against humans -----------------------------------------------------
st.subheader("What agents work on, against humans", help=definition("usage_mix"))
measure = st.radio(
    "Measure",
    list(MIX_MEASURES),
    format_func=MIX_MEASURES.get,
    horizontal=True,
    key="value_shift_mix_measure",
    help="Share: the part of the actor type's tasks in the month (agents' and humans' each add "
    "up to 100%), to compare what each spends its work on whatever their volumes.",
)
for dimension, title in MIX_DIMENSIONS.items():
    mix = guarded(queries.usage_mix_monthly, dimension, filters.segments, filters.period)
    if mix is None:
        continue
    st.markdown(f"**{title}** · {filters.scope}", help=definition("usage_mix"))
    if mix.empty:
        st.info("No usage in this selection.")
        continue
    shown_mix = shaping.with_actor_labels(mix)
    # a feature or tier as words in the legend ("ticket triage"), as the caption below says it;
    # the table keeps the ids
    figure = charts.actor_mix_bars(
        shown_mix.assign(**{dimension: shown_mix[dimension].str.replace("_", " ")}),
        dimension,
        measure,
        {"month": "Month", **MIX_HEADERS, **MIX_MEASURES},
    )
    if measure == "share_of_actor_tasks":
        figure.update_yaxes(tickformat=".0%", range=[0, 1])
    else:
        figure.update_yaxes(tickformat="~s", rangemode="tozero")
    st.plotly_chart(figure, width="stretch", key=f"value_shift_mix_{dimension}")
    top = shaping.top_of_each_actor(mix, dimension)
    st.caption(
        f"In {shaping.latest_month(mix):%b %Y}: "
        + " · ".join(
            f"{row.actor} spent {percent(row.share_of_actor_tasks, 0)} of their tasks on "
            + MIX_NAMING[dimension].format(getattr(row, dimension).replace("_", " "))
            for row in top.itertuples()
        )
    )
    with st.expander(f"Usage mix {title.lower()} table"):
        table_with_download(
            shown_mix,
            f"usage_mix_{dimension}.csv",
            key=f"value_shift_mix_{dimension}_download",
            column_order=[
                "month",
                dimension,
                "actor",
                "tasks",
                "share_of_actor_tasks",
                "tokens",
                "cost_to_serve_usd",
            ],
            column_config={
                "month": MONTH_COLUMN,
                dimension: MIX_HEADERS[dimension],
                "actor": "Who",
                "tasks": st.column_config.NumberColumn("Tasks", format="localized"),
                "share_of_actor_tasks": st.column_config.NumberColumn(
                    "Share of the actor's tasks", format="percent"
                ),
                "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
                "cost_to_serve_usd": st.column_config.NumberColumn(
                    "Cost to serve", format="dollar"
                ),
            },
        )

# ---- seats against usage per seat -----------------------------------------------------------
st.subheader("Seats against usage per seat", help=definition("usage_per_seat"))
seat_series = guarded(queries.seats_and_usage_per_seat, filters.segments, filters.period)
if seat_series is not None and seat_series.empty:
    st.info("No months of data in this period and segment selection.")
elif seat_series is not None:
    change = shaping.seats_against_usage_change(seat_series)
    st.caption(
        " · ".join(
            f"{segment_label(row.segment)}, "
            f"{row.first_month:%b %Y} to {row.last_month:%b %Y}: "
            f"billable seats {count(row.first_seats)} → {count(row.last_seats)} "
            f"({shaping.signed_percent(row.seats_change)}), tasks per seat "
            f"{number(row.first_tasks_per_seat)} → {number(row.last_tasks_per_seat)} "
            f"({shaping.signed_percent(row.tasks_per_seat_change)})"
            for row in change.itertuples()
        )
    )
    left, right = st.columns(2)
    left.markdown("**Billable seats at month end**", help=definition("billable_seats"))
    seats = charts.segment_lines(
        seat_series, "billable_seats", labels={"month": "Month", "billable_seats": "Seats"}
    )
    seats.update_yaxes(rangemode="tozero")
    left.plotly_chart(charts.legend_below(seats), width="stretch", key="value_shift_seats")
    right.markdown("**Tasks per billable seat**", help=definition("usage_per_seat"))
    usage_per_seat = charts.segment_lines(
        seat_series,
        "tasks_per_seat",
        hover_data=["tasks", "tokens_per_seat"],
        labels={"month": "Month", "tasks_per_seat": "Tasks per seat"},
    )
    usage_per_seat.update_yaxes(rangemode="tozero")
    right.plotly_chart(
        charts.legend_below(usage_per_seat), width="stretch", key="value_shift_usage_per_seat"
    )
    with st.expander("Seats and usage per seat table"):
        table_with_download(
            seat_series,
            "seats_and_usage_per_seat.csv",
            key="value_shift_seats_download",
            column_config={
                "month": MONTH_COLUMN,
                "segment": "Segment",
                "billable_seats": st.column_config.NumberColumn(
                    "Billable seats", format="localized"
                ),
                "tasks": st.column_config.NumberColumn("Tasks", format="localized"),
                "tasks_per_seat": st.column_config.NumberColumn("Tasks per seat", format="%.1f"),
                "tokens": st.column_config.NumberColumn("Tokens", format="localized"),
                "tokens_per_seat": st.column_config.NumberColumn(
                    "Tokens per seat", format="localized"
                ),
            },
        )

# ---- usage per seat against seats, and margin by account -------------------------------------
st.subheader("Accounts: usage per seat, cost and margin", help=definition("power_user"))
if accounts is not None and accounts.empty:
    st.info("No paying or using account in this selection.")
elif accounts is not None:
    marked = shaping.with_power_user_marker(accounts)
    left, right = st.columns(2)
    usage = charts.accounts_scatter(
        marked,
        "billable_seats",
        "tasks_per_seat",
        {
            "billable_seats": "Billable seats at period end",
            "tasks_per_seat": "Tasks per seat-month",
        },
        hover_data=["account_id", "tokens_per_seat", "automation_share"],
        title="Usage per seat against seats",
    )
    left.plotly_chart(charts.legend_below(usage, height=400, drop=0.3), width="stretch")
    margin = charts.accounts_scatter(
        marked,
        "mrr_usd",
        "cost_to_serve_usd",
        {
            "mrr_usd": "Seat revenue in the period (MRR summed)",
            "cost_to_serve_usd": "Cost to serve in the period",
        },
        hover_data=["account_id", "gross_margin", "power_user_months"],
        title="Cost to serve against seat revenue",
        log_x=True,
        log_y=True,
    )
    # Above this diagonal an account costs more to serve than it pays: a power user.
    charts.add_diagonal(margin, accounts, "mrr_usd", "cost_to_serve_usd", "cost = revenue")
    right.plotly_chart(charts.legend_below(margin, height=400, drop=0.3), width="stretch")
    power_users = shaping.power_user_count(accounts)
    months = (
        f"{portfolio['month'].min():%b %Y} .. {shaping.latest_month(portfolio):%b %Y}"
        if portfolio is not None
        else "the period"
    )
    st.caption(
        f"{counted(power_users, 'account')} of {filters.scope} cost more to serve than their "
        f"seats brought in over {months}: the power users of the period (the card above counts "
        "those of its last month alone)."
    )
    with st.expander("Accounts table"):
        table_with_download(
            accounts,
            "account_value.csv",
            key="value_shift_accounts_download",
            download_role=access.FINANCE,  # what each named account pays and costs
            column_config={
                "gross_margin": st.column_config.NumberColumn(format="percent"),
                "automation_share": st.column_config.NumberColumn(format="percent"),
                "mrr_usd": st.column_config.NumberColumn("Seat revenue (USD)", format="dollar"),
                "cost_to_serve_usd": st.column_config.NumberColumn(
                    "Cost to serve (USD)", format="dollar"
                ),
            },
        )

# ---- what a token costs, and how fast it falls -------------------------------------------------
st.subheader("Model costs over time", help=definition("model_cost_decline"))
curve = guarded(queries.model_cost_curve)
if curve is not None and not curve.empty:
    st.caption(
        definition("model_cost_in_force")
        + " The list is `dbt_project/seeds/model_costs.csv`, a row per tier and price change."
    )
    data_table(
        curve,
        hide_index=True,
        column_config={
            "model": "Model tier",
            "dated_prices": st.column_config.NumberColumn("Prices"),
            "first_effective_from": st.column_config.DateColumn("First price from"),
            "first_usd_per_1k_in_and_out": st.column_config.NumberColumn(
                "First, per 1k in + 1k out", format="$%.5f"
            ),
            "latest_effective_from": st.column_config.DateColumn("Latest price from"),
            "latest_usd_per_1k_in_and_out": st.column_config.NumberColumn(
                "Latest, per 1k in + 1k out", format="$%.5f"
            ),
            "yearly_decline": st.column_config.NumberColumn(
                label("model_cost_decline", "Yearly cost decline"),
                format="percent",
                help=definition("model_cost_decline"),
            ),
            "projection_yearly_decline": st.column_config.NumberColumn(
                "Projected decline",
                format="percent",
                help=definition("projection_cost_curve"),
            ),
            "is_projection_decline_set": st.column_config.CheckboxColumn(
                "From the setting",
                help="Ticked when the setting `projection_yearly_cost_decline` names the tier: "
                "its decline replaces the measured one in the projection. "
                + _setting_description("projection_yearly_cost_decline"),
            ),
        },
    )

# ---- bill shock ------------------------------------------------------------------------------
st.subheader("Bill shock over time", help=definition("bill_shock_rate"))
if shock is not None and shock.empty:
    st.info("No invoices in this selection.")
elif shock is not None:
    figure = charts.segment_lines(
        shock,
        "bill_shock_rate",
        hover_data=["billed_accounts", "judged_accounts", "shocked_accounts"],
        labels={"month": "Month", "bill_shock_rate": "Accounts shocked / billed"},
    )
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    charts.add_threshold(figure, BILL_SHOCK_GOOD, f"{percent(BILL_SHOCK_GOOD, 0)} good")
    charts.add_threshold(
        figure, BILL_SHOCK_RED_FLAG, f"{percent(BILL_SHOCK_RED_FLAG, 0)} red flag", dash="dot"
    )
    st.plotly_chart(charts.legend_below(figure), width="stretch")
    latest_shock = shaping.latest_rows(shock)
    st.caption(
        " · ".join(
            f"{segment_label(row.segment)}: {count(row.shocked_accounts)} of "
            f"{count(row.billed_accounts)} "
            f"billed accounts shocked in {row.month:%b %Y}"
            for row in latest_shock.itertuples()
        )
    )
    with st.expander("Bill shock table"):
        table_with_download(
            shock,
            "bill_shock_monthly.csv",
            key="value_shift_bill_shock_download",
            column_config={
                "month": MONTH_COLUMN,
                "bill_shock_rate": st.column_config.NumberColumn(format="percent"),
            },
        )
