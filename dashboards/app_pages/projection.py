"""Projection, for the pricing review: the MRR each model would bring in from today's base (the
existing accounts) over the next 6, 12 and 24 months, as a worst..best band around the middle
scenario, beside the method's own backtest error, two naive forecasts' errors on the same backtest,
and the assumptions it ran on (fct_revenue_projection, its backtest and rates,
rpt_settings). The assumptions are editable in place: an edit re-projects with the build's own
projection and rating SQL (queries.re_projection) and the page shows the edited figures beside
the build's until reset. The router has already drawn the as-of time and the sidebar filters."""

import pandas as pd
import streamlit as st

from dashboards.lib import charts, decision, margin, queries, road_ahead
from dashboards.lib.definitions import definition, label, segment_label
from dashboards.lib.format import MISSING, counted, money, percent
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    data_table,
    download_csv,
    guarded,
    quietly,
    segment_picker,
)

SEGMENT_KEY = "projection_segment"
NEW_BUSINESS_KEY = "projection_new_business"
MODELS_KEY = "projection_models"
CHOICE_KEY = "projection_choice_model"
ASSUMPTION_KEY = "projection_assumption_{}"
COST_DECLINE_KEY = "projection_cost_decline_{}"
MARGIN_MODEL_KEY = "projection_margin_model"
EXACT_KEY = "projection_edit_exact"
# A multiplier above this is no longer an assumption but a stress test nobody asked for.
MAX_MULTIPLE = 10.0

models = guarded(queries.price_models)
segments = guarded(queries.segments)
if models is None or segments is None:
    st.stop()
names = dict(zip(models["price_model_id"], models["name"], strict=True))
current = [str(m) for m in models.loc[models["is_current_model"], "price_model_id"]]

with st.sidebar:
    st.header("Projection")
    segment = segment_picker(segments, SEGMENT_KEY)
    chosen = st.pills(
        "Models",
        list(names),
        selection_mode="multi",
        default=list(names),
        key=MODELS_KEY,
        format_func=lambda model: names.get(model, model),
    )
if not chosen:
    st.info("Choose at least one model.")
    st.stop()

projection = guarded(queries.revenue_projection, segment, tuple(chosen))
totals = guarded(queries.projection_totals, segment, road_ahead.HORIZONS)
backtest = guarded(queries.projection_backtest, segment)
if projection is None or totals is None or backtest is None:
    st.stop()
if projection.empty:
    st.info("The warehouse holds no projection yet: it needs a month of data to start from.")
    st.stop()

as_of = projection["as_of_month"].iloc[0]
month_zero = projection[projection["months_ahead"] == 0]
base_accounts = int(month_zero["base_accounts"].max()) if not month_zero.empty else 0
st.caption(
    f"**{label('mrr', 'MRR')}** of the **{base_accounts:,} "
    f"{label('revenue_existing_base', 'existing accounts').lower()}** from **{as_of:%B %Y}** "
    "(month 0); new business is a separate line, off below. A total over the next *h* months "
    "sums the MRR of months 1 .. *h*.",
    help=definition("revenue_vocabulary"),
)

# ---- the assumptions, editable in place -----------------------------------------------------
settings = guarded(queries.projection_settings)
assumption_names = guarded(queries.projection_assumption_names) or []
described = {} if settings is None else settings.set_index("name").to_dict("index")
in_force = {name: float(described[name]["value"]) for name in assumption_names if name in described}


def reset_assumptions() -> None:
    for name, value in in_force.items():
        st.session_state[ASSUMPTION_KEY.format(name)] = value


chosen_values: dict[str, float] = {}
with st.container(border=True):
    st.markdown(
        "**Assumptions** — edit one to re-project; the build's figures stay beside it.",
        help=definition("projection_assumptions_edited"),
    )
    columns = st.columns(len(in_force) + 1) if in_force else []
    for column, (name, value) in zip(columns, in_force.items(), strict=False):
        key = ASSUMPTION_KEY.format(name)
        st.session_state.setdefault(key, value)
        is_fraction = described[name].get("unit") == "fraction"
        with column:
            chosen_values[name] = st.number_input(
                road_ahead.assumption_label(name),
                min_value=0.0,
                max_value=1.0 if is_fraction else MAX_MULTIPLE,
                step=0.05,
                format="%.2f",
                key=key,
                help=f"{described[name]['description']} In force: {value:g}.",
            )
    edited = road_ahead.edited_assumptions(chosen_values, in_force)
    if columns:
        with columns[-1]:
            st.button(
                "Reset",
                key="projection_reset",
                help="Back to the values of the build (rpt_settings).",
                on_click=reset_assumptions,
                disabled=not edited,
                icon=":material/restart_alt:",
            )

# ---- the cost curve: each model tier's yearly decline, editable the same way ----------------
cost_curve = guarded(queries.model_cost_curve)
curve_edits: tuple[tuple[str, float], ...] = ()
if cost_curve is not None and not cost_curve.empty:
    curve_frame = margin.cost_curve_editor_frame(cost_curve)
    with st.expander(
        f"**{margin.header('projection_cost_curve')}**: each model tier's cost falls by a yearly "
        "decline; edit one to re-project the cost to serve and the margin.",
    ):
        tier_columns = st.columns(len(curve_frame) + 1)
        applied = []
        for column, row in zip(tier_columns, curve_frame.itertuples(), strict=False):
            key = COST_DECLINE_KEY.format(row.model)
            st.session_state.setdefault(key, float(row.applied_pct))
            with column:
                applied.append(
                    st.number_input(
                        f"{row.model}: yearly decline, %",
                        min_value=0.0,
                        max_value=99.0,
                        step=5.0,
                        format="%.2f",
                        key=key,
                        help=f"{definition('projection_cost_curve')} Measured on the price list: "
                        f"{row.measured_pct:.2f}%; latest cost ${row.latest_usd_per_1k:g} per "
                        "1,000 input and 1,000 output tokens.",
                    )
                )
        curve_frame["applied_pct"] = applied
        curve_edits = margin.edited_curve(curve_frame, cost_curve)

re_projected = None
exact = False
if edited or curve_edits:
    exact = st.toggle(
        "Re-project every account exactly",
        key=EXACT_KEY,
        help="An edit re-projects the edit sample and moves the build's figures by what it moved "
        "the sample's, in a moment whatever the number of accounts. This re-projects every "
        "account of the base instead: exact, and slower the more accounts there are. "
        + definition("projection_edit_estimate"),
    )
    with st.spinner("Re-projecting with the build's SQL…", show_time=True):
        re_projected = guarded(queries.re_projection, edited, curve_edits, exact=exact)
if re_projected is not None:
    changes = ", ".join(
        [
            f"{road_ahead.assumption_label(name).lower()} {in_force[name]:g} → {value:g}"
            for name, value in edited
        ]
        + [f"{tier} cost decline → {decline:.2%}" for tier, decline in curve_edits]
    )
    st.info(
        f"**Edited**: {changes}. The figures marked *edited* re-project the build's data with "
        "the build's own projection SQL; nothing is published. Reset to return to the build's. "
        + road_ahead.edit_method(exact, described),
        icon=":material/edit:",
    )
    edited_projection = road_ahead.projection_of(
        re_projected["projection"], segment, tuple(chosen), names
    )
    edited_totals = road_ahead.totals_of(
        re_projected["projection"], segment, road_ahead.HORIZONS, names
    )
    edited_backtest = road_ahead.backtest_of(re_projected["backtest"], segment)

# ---- KPI row: the current model's middle totals and the method's backtest error -------------


def projection_kpis(totals_shown, backtest_shown, suffix: str = "", reference=None) -> None:
    model = current[0] if current else None
    figures, kpis = {}, []
    for months in road_ahead.HORIZONS:
        middle, worst, best = (
            road_ahead.total_of(totals_shown, model, scenario, months) if model else None
            for scenario in ("middle", "worst", "best")
        )
        spread = f"{money(worst)} .. {money(best)}"
        if reference is not None and model and middle is not None:
            spread = f"as built {money(road_ahead.total_of(reference, model, 'middle', months))}; "
            spread += f"{money(worst)} .. {money(best)}"
        figures |= {f"middle_{months}": middle, f"spread_{months}": spread}
        kpis.append(
            Kpi(
                "projection_scenario",
                f"middle_{months}",
                unit="usd",
                delta=f"spread_{months}",
                wording=f"Current model: MRR, next {months} months (middle)",
            )
        )
    figures["mape"] = road_ahead.backtest_mape(backtest_shown)
    figures["baselines"] = (
        f"flat {percent(road_ahead.backtest_mape(backtest_shown, 'flat_mape'))}, trailing NRR "
        + percent(road_ahead.backtest_mape(backtest_shown, "trailing_nrr_mape"))
    )
    kpis.append(Kpi("projection_backtest_mape", "mape", delta="baselines"))
    kpi_row(figures, kpis, suffix=suffix, fit=True)


projection_kpis(totals, backtest)
if re_projected is not None:
    projection_kpis(edited_totals, edited_backtest, " (edited)", totals)

# ---- the band -----------------------------------------------------------------------------
colors = charts.model_colors(names)
if re_projected is None:
    st.subheader("Monthly MRR by model: worst .. best, middle drawn")
    st.plotly_chart(charts.projection_band(projection, colors), key="projection_band")
    download_csv(projection, f"seatshift_projection_{segment}.csv", key="projection_csv")
else:
    st.subheader("Monthly MRR by model, edited: worst .. best, middle drawn; as built dotted")
    st.plotly_chart(
        charts.projection_band(edited_projection, colors, reference=projection),
        key="projection_band_edited",
    )
    download_csv(
        edited_projection, f"seatshift_projection_{segment}_edited.csv", key="projection_csv"
    )

st.subheader("MRR of the existing accounts over the next 6, 12 and 24 months")
st.caption("Each total sums the monthly MRR of months 1 .. 6, 12 or 24.")
# Two tables, so that every figure shows at 1280 px: each model's totals if everyone is moved
# onto it, then each proposal offered beside the current model (the customer-choice figures).
totals_config = (
    {
        "name": st.column_config.TextColumn("Model", width=240),
    }
    | {
        f"next_{months}m": st.column_config.TextColumn(
            f"Next {months} mo.", help=definition("projection_scenario")
        )
        for months in road_ahead.HORIZONS
    }
    | {
        "band_24m": st.column_config.TextColumn(
            "24 mo., worst .. best", help=definition("projection_scenario")
        ),
        "backtest_error": st.column_config.TextColumn(
            "Backtest error",
            help=definition("projection_backtest_mape")
            + " (carried): a proposal was never billed and carries the current model's error.",
        ),
    }
)
choice_config = (
    {
        "name": st.column_config.TextColumn("Offered beside the current model", width=240),
    }
    | {
        f"choice_{months}m_text": st.column_config.TextColumn(
            f"Under choice, {months} mo.", help=definition("projection_choice_revenue")
        )
        for months in road_ahead.HORIZONS
    }
    | {
        "choosing": st.column_config.TextColumn(
            label("projection_choosing_accounts"),
            help=definition("projection_choosing_accounts"),
        ),
    }
)
shown_totals = [("As built", totals, f"seatshift_projection_totals_{segment}.csv")]
if re_projected is not None:
    shown_totals.insert(
        0, ("Edited", edited_totals, f"seatshift_projection_totals_{segment}_edited.csv")
    )
for (caption, frame, file_name), tab in zip(
    shown_totals, st.tabs([caption for caption, _, _ in shown_totals]), strict=True
):
    with tab:
        table = road_ahead.totals_table(frame[frame["price_model_id"].isin(chosen)])
        if not table.empty:
            for months in road_ahead.HORIZONS:
                table[f"next_{months}m"] = table[f"middle_{months}m"].map(money)
                # the current model under choice is itself: only a proposal has a figure of its own
                table[f"choice_{months}m_text"] = [
                    MISSING if is_current else money(value)
                    for is_current, value in zip(
                        table["is_current_model"], table[f"choice_{months}m"], strict=True
                    )
                ]
            table["choosing"] = [
                MISSING if is_current else f"{int(choosing):,} of {int(accounts):,}"
                for is_current, choosing, accounts in zip(
                    table["is_current_model"],
                    table["choosing_accounts"],
                    table["base_accounts"],
                    strict=True,
                )
            ]
            table["band_24m"] = [
                f"{money(worst)} .. {money(best)}"
                for worst, best in zip(table["worst_24m"], table["best_24m"], strict=True)
            ]
            table["backtest_error"] = [
                percent(error) + (" (carried)" if carried else "")
                for error, carried in zip(
                    table["backtest_mape"], table["is_backtest_carried"], strict=True
                )
            ]
        if not table.empty and not table["is_current_model"].all():
            st.caption(
                "The first table moves every account onto the model; the second offers each "
                "proposal beside the current model, each account on the option it takes.",
                help=definition("projection_choice_revenue"),
            )
        data_table(
            table,
            hide_index=True,
            column_config=totals_config,
            column_order=list(totals_config),
        )
        if not table.empty and not table["is_current_model"].all():
            data_table(
                table[~table["is_current_model"].astype(bool)],
                hide_index=True,
                column_config=choice_config,
                column_order=list(choice_config),
            )
        download_csv(
            table,
            file_name,
            key=f"projection_totals_csv_{caption.lower().replace(' ', '_')}",
        )

# ---- a proposal forced on everyone or offered as an option -------------------------------------
proposals = [model for model in names if model not in current]
if proposals:
    st.subheader("A proposal forced on everyone, or offered beside the current model")
    triggers = quietly(queries.migration_triggers)
    recommended = decision.recommended_proposal(triggers, segment) if triggers is not None else None
    offered = st.selectbox(
        "Proposal",
        proposals,
        index=proposals.index(recommended) if recommended in proposals else 0,
        key=CHOICE_KEY,
        format_func=lambda model: names.get(model, model),
        help=definition("customer_choice"),
        width=420,
    )
    st.caption(
        "Each existing account is projected under the option it takes by the customer-choice "
        "rule at the as-of month; the forced switch moves every account. Middle scenario, MRR "
        "of months 1 .. 12.",
        help=definition("projection_choice_revenue"),
    )

    def choice_kpis(totals_shown, suffix: str = "") -> None:
        forced = road_ahead.total_of(totals_shown, offered, "middle", 12)
        chosen_total = road_ahead.choice_total_of(totals_shown, offered, 12)
        kpi_row(
            {
                "forced": forced,
                "choice": chosen_total,
                "choosing": road_ahead.choosing_text(totals_shown, offered),
                "adverse": None
                if forced is None or chosen_total is None
                else forced - chosen_total,
            },
            [
                Kpi("forced_switch_revenue", "forced", "{label}: MRR, next 12 months (middle)"),
                Kpi(
                    "projection_choice_revenue",
                    "choice",
                    "{label}: MRR, next 12 months (middle)",
                    delta="choosing",
                ),
                # the projected adverse selection: the projection-under-choice block defines it
                Kpi(
                    "projection_choice_revenue",
                    "adverse",
                    label("adverse_selection") + ", next 12 months (middle)",
                ),
            ],
            suffix=suffix,
            fit=True,
        )

    choice_kpis(totals)
    if re_projected is not None:
        choice_kpis(edited_totals, " (edited)")
    # month by month: the proposal forced, offered, and the current model (edited when edited)
    if re_projected is not None:
        monthly = road_ahead.projection_of(
            re_projected["projection"], segment, (*current, offered), names
        )
    else:
        monthly = guarded(queries.revenue_projection, segment, (*current, offered))
    if monthly is not None and not monthly.empty:
        lines = road_ahead.choice_long(monthly, offered, current[0] if current else None, names)
        st.plotly_chart(charts.choice_lines(lines), key="projection_choice_lines")
        download_csv(
            lines, f"seatshift_projection_choice_{segment}_{offered}.csv", key="choice_csv"
        )

# ---- cost to serve, margin and cash ---------------------------------------------------------
margins = guarded(queries.projection_margin_and_cash, segment, tuple(chosen))
if re_projected is not None and "margin" in re_projected:
    edited_margin = re_projected["margin"]
    margins = edited_margin[
        (edited_margin["segment"] == segment) & edited_margin["price_model_id"].isin(chosen)
    ]
if margins is not None and not margins.empty:
    edited_mark = " (edited)" if re_projected is not None else ""
    st.subheader(f"Cost to serve, margin and cash{edited_mark}")
    st.caption(
        "Middle scenario. The margin is the MRR less the projected cost to serve"
        " (tokens grown with the segment's usage, priced along the cost curve above); cash is "
        "when the money arrives: annual plans whole when billed, usage a month late.",
        help=definition("projected_cash"),
    )
    margin_totals = margin.totals(margins, names)
    data_table(
        margin.table(margin_totals),
        hide_index=True,
        column_config=margin.column_config(definition),
    )
    download_csv(margins, f"seatshift_projection_margin_{segment}.csv", key="projection_margin_csv")
    shown_model = st.selectbox(
        "Cash and cost of",
        list(dict.fromkeys(margins["price_model_id"])),
        key=MARGIN_MODEL_KEY,
        format_func=lambda model: names.get(model, model),
    )
    middle = margins[(margins["price_model_id"] == shown_model) & (margins["scenario"] == "middle")]
    st.plotly_chart(
        charts.mrr_cash_and_cost(middle, names.get(shown_model, shown_model)),
        key="projection_cash_chart",
    )

# ---- new business: a line of its own, off unless switched on --------------------------------
if st.toggle(
    label("projection_new_business", "New business") + ": add it as a separate line",
    value=False,
    key=NEW_BUSINESS_KEY,
    help=definition("projection_new_business"),
):
    new_business = guarded(queries.projection_new_business, segment)
    if new_business is not None and not new_business.empty:
        st.subheader("New business, beside today's base (not in the figures above)")
        kpi_row(
            {
                f"next_{months}": road_ahead.new_business_total(new_business, months)
                for months in road_ahead.HORIZONS
            },
            [
                Kpi("projection_new_business", f"next_{months}", f"{{label}}, next {months} months")
                for months in road_ahead.HORIZONS
            ],
        )
        base = projection[projection["is_current_model"] & (projection["scenario"] == "middle")]
        st.plotly_chart(
            charts.new_business_line(new_business, base), key="projection_new_business_line"
        )
        download_csv(new_business, f"seatshift_new_business_{segment}.csv", key="new_business_csv")

# ---- the track record ---------------------------------------------------------------------
if re_projected is not None:
    backtest = edited_backtest
mape = road_ahead.backtest_mape(backtest)
edited_mark = ", edited" if re_projected is not None else ""
months_back = road_ahead.backtest_months_back(backtest)
st.subheader(
    f"Backtest{edited_mark}: projected "
    + (f"{counted(months_back, 'month')} back" if months_back else "back")
    + " vs the MRR that base had"
)
if backtest.empty:
    st.info("Not enough history for a backtest yet.")
else:
    origin = backtest["backtest_origin_month"].iloc[0]
    st.caption(
        f"The same method run from **{origin:%B %Y}** on that month's existing accounts "
        f"(current model, middle scenario), against the MRR those accounts actually had: "
        f"mean absolute error {percent(mape)}; the flat forecast's "
        f"{percent(road_ahead.backtest_mape(backtest, 'flat_mape'))}, the trailing-NRR "
        f"forecast's {percent(road_ahead.backtest_mape(backtest, 'trailing_nrr_mape'))}.",
        help=definition("projection_backtest_mape"),
    )
    beats, verdict = road_ahead.backtest_verdict(backtest)
    if beats is False:
        st.warning(verdict, icon=":material/warning:")
    elif beats:
        st.success(verdict, icon=":material/check_circle:")
    st.plotly_chart(charts.backtest_lines(backtest), key="projection_backtest")
    download_csv(backtest, f"seatshift_projection_backtest_{segment}.csv", key="backtest_csv")
if not backtest.empty:
    st.caption("Backtest, month by month")
    data_table(
        pd.DataFrame(
            {
                "Month": backtest["month"].map(lambda month: f"{month:%b %Y}"),
                "Actual MRR": backtest["actual_revenue_usd"].map(money),
                "Projected": backtest["projected_revenue_usd"].map(money),
                "Flat": backtest["flat_revenue_usd"].map(money),
                "Trailing NRR": backtest["trailing_nrr_revenue_usd"].map(money),
                "Error": backtest["absolute_percentage_error"].map(percent),
            }
        ),
        hide_index=True,
        column_config={
            "Actual MRR": st.column_config.TextColumn(help=definition("mrr")),
            "Flat": st.column_config.TextColumn(help=definition("projection_flat_mape")),
            "Trailing NRR": st.column_config.TextColumn(
                help=definition("projection_trailing_nrr_mape")
            ),
            "Error": st.column_config.TextColumn(help=definition("projection_backtest_mape")),
        },
    )

# ---- the assumptions ----------------------------------------------------------------------
st.subheader("Assumptions of the build")
rates = guarded(queries.projection_rates, segment)
if re_projected is not None:
    rates = road_ahead.rates_of(re_projected["rates"], segment)
if settings is not None:
    st.caption(
        "Settings of this build (dbt vars; `seatshift refresh --vars ...` changes them)"
        + ("; the rates below are the edited ones." if re_projected is not None else "."),
    )
    data_table(
        settings,
        hide_index=True,
        column_order=["name", "value", "default_value", "description"],
        column_config={
            "name": "Setting",
            "value": "Value in force",
            "default_value": "Default",
            "description": st.column_config.TextColumn("What it decides", width="large"),
        },
    )
if rates is not None and not rates.empty:
    left, right = st.columns([2, 3])
    with left:
        st.caption("Monthly logo churn", help=definition("projection_monthly_churn_rate"))
        churn = road_ahead.churn_table(rates)
        if "segment" in churn:
            churn["segment"] = churn["segment"].map(segment_label)
        data_table(
            churn,
            hide_index=True,
            column_config={"segment": "Segment"}
            | {
                column: st.column_config.NumberColumn(
                    column.replace("churn_", "").replace("_", " ").capitalize(),
                    format="percent",
                )
                for column in churn.columns
                if column != "segment"
            },
        )
    with right:
        st.caption("Monthly growth", help=definition("projection_monthly_growth_rate"))
        growth = road_ahead.rates_table(rates)
        if "segment" in growth:
            growth["segment"] = growth["segment"].map(segment_label)
        if "growth_trend" in growth:  # a dash where no decline deepens, not an empty number
            growth["growth_trend"] = growth["growth_trend"].map(lambda rate: percent(rate, 2))
        data_table(
            growth,
            hide_index=True,
            # the trend beside the rates it deepens, before the measured rate and its error
            column_order=[
                column
                for column in (
                    # one segment chosen: its name is the page's, not a column's
                    *(["segment"] if growth["segment"].nunique() > 1 else []),
                    "metric",
                    *[f"growth_{name}" for name in road_ahead.SCENARIOS],
                    "growth_trend",
                    "measured_growth_rate",
                    "growth_rate_error",
                )
                if column in growth.columns
            ],
            column_config={"segment": "Segment", "metric": "Quantity"}
            | {
                column: st.column_config.NumberColumn(
                    column.replace("growth_", "").replace("_", " ").capitalize(),
                    format="percent",
                )
                for column in growth.columns
                if column not in ("segment", "metric", "growth_trend")
            }
            | {
                "growth_trend": st.column_config.TextColumn(
                    "Deepens a month", help=definition("projection_growth_trend")
                )
            },
        )
        if "growth_trend" in growth and (growth["growth_trend"] != MISSING).any():
            st.caption(
                "Where *Deepens a month* is set, the segment's decline deepens: the monthly rate "
                "falls by that much more each month ahead (fading), within the bounds of the "
                "settings, so the projection declines faster than the rate alone says."
            )
