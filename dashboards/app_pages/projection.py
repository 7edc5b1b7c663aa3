"""Projection, for the pricing review: what each model would bill today's base over the next 6,
12 and 24 months, as a worst..best band around the middle scenario, beside the method's own
backtest error and the assumptions it ran on (fct_revenue_projection, its backtest and rates,
rpt_settings). The router has already drawn the as-of time and the sidebar filters."""

import streamlit as st
from lib import charts, queries, road_ahead
from lib.definitions import definition, label
from lib.format import money, percent
from lib.layout import MONTH_COLUMN, current_filters, download_csv, guarded, table_with_download

SEGMENT_KEY = "projection_segment"
MODELS_KEY = "projection_models"
PORTFOLIO = "all"

filters = current_filters()
models = guarded(queries.price_models)
segments = guarded(queries.segments)
if models is None or segments is None:
    st.stop()
names = dict(zip(models["price_model_id"], models["name"], strict=True))
current = [str(m) for m in models.loc[models["is_current_model"], "price_model_id"]]

with st.sidebar:
    st.header("Projection")
    segment_options = [PORTFOLIO, *segments]
    default_segment = filters.segments[0] if len(filters.segments) == 1 else PORTFOLIO
    segment = st.selectbox(
        "Segment",
        segment_options,
        index=segment_options.index(default_segment),
        key=SEGMENT_KEY,
        format_func=lambda s: "All segments" if s == PORTFOLIO else s.replace("_", " ").title(),
    )
    chosen = st.multiselect(
        "Models",
        list(names),
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
st.caption(
    f"From **{as_of:%B %Y}** (month 0, the last month billed), today's base only: no new business.",
    help=definition("revenue_projection"),
)

# ---- KPI row: the current model's middle totals and the method's backtest error -------------
mape = road_ahead.backtest_mape(backtest)
with st.container(horizontal=True):
    for months in road_ahead.HORIZONS:
        middle = road_ahead.total_of(totals, current[0], "middle", months) if current else None
        worst = road_ahead.total_of(totals, current[0], "worst", months) if current else None
        best = road_ahead.total_of(totals, current[0], "best", months) if current else None
        st.metric(
            f"Current model, next {months} months (middle)",
            money(middle),
            delta=f"{money(worst)} .. {money(best)}",
            delta_color="off",
            delta_arrow="off",
            help=definition("projection_scenario"),
            border=True,
        )
    st.metric(
        label("projection_backtest_mape", "Backtest error (MAPE)"),
        percent(mape),
        help=definition("projection_backtest_mape"),
        border=True,
    )

# ---- the band -----------------------------------------------------------------------------
st.subheader("Monthly revenue by model: worst .. best, middle drawn")
st.plotly_chart(
    charts.projection_band(projection, charts.model_colors(names)),
    key="projection_band",
)
download_csv(projection, f"seatshift_projection_{segment}.csv", key="projection_csv")

st.subheader("Totals over the next 6, 12 and 24 months")
table = road_ahead.totals_table(totals[totals["price_model_id"].isin(chosen)])
totals_config = {
    "name": "Model",
    "backtest_mape": st.column_config.NumberColumn(
        "Backtest error", format="percent", help=definition("projection_backtest_mape")
    ),
    "is_backtest_carried": st.column_config.CheckboxColumn("Error carried from the current model"),
} | {
    f"{scenario}_{months}m": st.column_config.NumberColumn(
        f"{months} mo {scenario}", format="dollar"
    )
    for months in road_ahead.HORIZONS
    for scenario in road_ahead.SCENARIOS
}
table_with_download(
    table,
    f"seatshift_projection_totals_{segment}.csv",
    key="projection_totals_csv",
    column_config=totals_config,
    column_order=list(totals_config),
)

# ---- the track record ---------------------------------------------------------------------
left, right = st.columns([3, 2])
with left:
    st.subheader("Backtest: projected 12 months back vs billed")
    if backtest.empty:
        st.info("Not enough history for a backtest yet.")
    else:
        origin = backtest["backtest_origin_month"].iloc[0]
        st.caption(
            f"The same method run from **{origin:%B %Y}** on that month's base (current model, "
            f"middle scenario); mean absolute error {percent(mape)}.",
            help=definition("projection_backtest_mape"),
        )
        st.plotly_chart(charts.backtest_lines(backtest), key="projection_backtest")
        download_csv(backtest, f"seatshift_projection_backtest_{segment}.csv", key="backtest_csv")
with right:
    st.subheader("Backtest, month by month")
    st.dataframe(
        backtest,
        hide_index=True,
        column_order=[
            "month",
            "projected_revenue_usd",
            "actual_revenue_usd",
            "absolute_percentage_error",
        ],
        column_config={
            "month": MONTH_COLUMN,
            "projected_revenue_usd": st.column_config.NumberColumn("Projected", format="dollar"),
            "actual_revenue_usd": st.column_config.NumberColumn("Billed", format="dollar"),
            "absolute_percentage_error": st.column_config.NumberColumn("Error", format="percent"),
        },
    )

# ---- the assumptions ----------------------------------------------------------------------
st.subheader("Assumptions")
settings = guarded(queries.projection_settings)
rates = guarded(queries.projection_rates, segment)
if settings is not None:
    st.caption(
        "Settings of this build (dbt vars; `seatshift refresh --vars ...` changes them).",
    )
    st.dataframe(
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
    percent_column = st.column_config.NumberColumn(format="percent")
    left, right = st.columns([2, 3])
    with left:
        st.caption("Monthly logo churn", help=definition("projection_monthly_churn_rate"))
        churn = road_ahead.churn_table(rates)
        st.dataframe(
            churn,
            hide_index=True,
            column_config={
                column: percent_column for column in churn.columns if column != "segment"
            },
        )
    with right:
        st.caption("Monthly growth", help=definition("projection_monthly_growth_rate"))
        growth = road_ahead.rates_table(rates)
        st.dataframe(
            growth,
            hide_index=True,
            column_config={
                column: percent_column
                for column in growth.columns
                if column not in ("segment", "metric")
            },
        )
