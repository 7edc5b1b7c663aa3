"""Seat health, for the Revenue lead: is the per-seat model still healthy? Utilization bands,
NRR and GRR against 100%, cohort retention, the MRR waterfall, ARPA and ARPU. The router has
already drawn the as-of time and the sidebar filters (segment, period)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards.lib import charts, queries, shaping
from dashboards.lib.definitions import (
    definition,
    label,
    segment_label,
    segment_labels,
    threshold,
)
from dashboards.lib.format import percent
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    MONTH_COLUMN,
    current_filters,
    guarded,
    revenue_portfolio,
    table_with_download,
)

UTILIZATION_RED_FLAG = threshold("utilization_red_flag")  # the build's settings (rpt_settings)
UTILIZATION_HEALTHY = threshold("utilization_healthy")
UTILIZATION_UNLICENSED = threshold("utilization_unlicensed")
BANDS = ["unlicensed", "healthy", "watch", "red_flag"]
BAND_COLORS = {
    "healthy": charts.GOOD,
    "watch": charts.OKABE_ITO[1],
    "red_flag": charts.BAD,
    "unlicensed": charts.OKABE_ITO[0],
}


def _band_name(band: str) -> str:
    """A band as the legend names it: its label in the glossary and the utilization it covers,
    from the settings in force (the bounds the build drew the bands with)."""
    # a build from before the bands had entries keeps the band's own words ("Red flag")
    name = label(f"seat_utilization_band_{band}", default=band.replace("_", " ").capitalize())
    between = {
        "healthy": (UTILIZATION_HEALTHY, UTILIZATION_UNLICENSED),
        "watch": (UTILIZATION_RED_FLAG, UTILIZATION_HEALTHY),
    }
    if band in between:
        low, high = between[band]
        covers = None if low is None or high is None else f"{percent(low, 0)}-{percent(high, 0)}"
    else:
        word, bound = (
            ("above", UTILIZATION_UNLICENSED)
            if band == "unlicensed"
            else ("below", UTILIZATION_RED_FLAG)
        )
        covers = None if bound is None else f"{word} {percent(bound, 0)}"
    return name if covers is None else f"{name} ({covers})"


BAND_NAMES = {band: _band_name(band) for band in BANDS}

filters = current_filters()
portfolio = revenue_portfolio(filters)
nrr = guarded(queries.nrr_monthly, filters.segments, filters.period)

# ---- KPI row ---------------------------------------------------------------------------------
if portfolio is not None:
    latest = shaping.latest_kpis(portfolio, nrr)
    st.caption(f"{filters.scope_heading}, month ending {shaping.latest_month(portfolio):%b %Y}.")
    for segment, row in latest.iterrows():
        kpi_row(
            row,
            [
                Kpi("mrr", "ending_mrr_usd"),
                Kpi("nrr", "nrr", "{label} (12 months)"),
                Kpi("grr", "grr", "{label} (12 months)"),
                Kpi("share_below_red_flag", "share_below_red_flag", "Accounts below {red_flag}"),
                Kpi("arpa", "arpa_usd"),
            ],
            suffix="" if len(latest) == 1 else f" · {segment_label(segment)}",
            red_flag=percent(UTILIZATION_RED_FLAG, 0),
        )

# ---- utilization -----------------------------------------------------------------------------
st.subheader("Seat utilization", help=definition("seat_utilization"))
if portfolio is not None:
    left, right = st.columns(2)
    trend = charts.segment_lines(
        portfolio,
        "seat_utilization",
        labels={"month": "Month", "seat_utilization": "Active users / seats", "segment": "Segment"},
        title="Utilization (pooled)",
    )
    trend.update_yaxes(tickformat=".0%", rangemode="tozero")
    charts.add_threshold(
        trend, UTILIZATION_RED_FLAG, f"{percent(UTILIZATION_RED_FLAG, 0)} red flag"
    )
    charts.add_threshold(
        trend, UTILIZATION_HEALTHY, f"{percent(UTILIZATION_HEALTHY, 0)} healthy", dash="dot"
    )
    left.plotly_chart(charts.legend_below(trend), width="stretch")

    bands = shaping.utilization_bands_long(portfolio, BANDS)
    stacked = px.bar(
        bands.assign(band=bands["band"].map(BAND_NAMES), segment=segment_labels(bands["segment"])),
        x="month",
        y="accounts",
        color="band",
        facet_row="segment" if portfolio["segment"].nunique() > 1 else None,
        category_orders={"band": [BAND_NAMES[band] for band in BANDS]},
        color_discrete_map={BAND_NAMES[band]: BAND_COLORS[band] for band in BANDS},
        # no x axis title: the months read as dates, and the legend's two rows would cover it
        labels={"month": "", "accounts": "Accounts", "band": "Band"},
        title="Accounts by utilization band",
    )
    stacked.for_each_annotation(lambda note: note.update(text=note.text.split("=")[-1]))
    right.plotly_chart(charts.legend_below(stacked), width="stretch")
    with st.expander("Utilization table"):
        table_with_download(
            portfolio[
                [
                    "month",
                    "segment",
                    "billable_seats",
                    "active_users",
                    "seat_utilization",
                    "accounts_with_seats",
                    "healthy_accounts",
                    "watch_accounts",
                    "red_flag_accounts",
                    "unlicensed_accounts",
                    "share_below_red_flag",
                ]
            ],
            "seat_utilization_monthly.csv",
            key="seat_health_utilization_download",
            column_config={
                "month": MONTH_COLUMN,
                "seat_utilization": st.column_config.NumberColumn(format="percent"),
                "share_below_red_flag": st.column_config.NumberColumn(format="percent"),
            },
        )

# ---- NRR and GRR -----------------------------------------------------------------------------
st.subheader("Net and gross revenue retention", help=definition("nrr"))
if nrr is not None:
    retention = shaping.retention_long(nrr)
    if retention.empty:
        st.info("NRR needs twelve months of history: no month in this selection has a base yet.")
    else:
        figure = charts.segment_lines(
            retention,
            "value",
            line_dash="measure",
            labels={"month": "Month", "value": "Retention", "measure": "Measure"},
        )
        figure.update_yaxes(tickformat=".0%")
        charts.add_threshold(figure, 1.0, "100%")
        st.plotly_chart(charts.legend_below(figure), width="stretch")
    with st.expander("NRR and GRR table"):
        table_with_download(
            nrr,
            "nrr_monthly.csv",
            key="seat_health_nrr_download",
            column_config={
                "month": MONTH_COLUMN,
                "nrr": st.column_config.NumberColumn("NRR", format="percent"),
                "grr": st.column_config.NumberColumn("GRR", format="percent"),
            },
        )

# ---- cohorts ---------------------------------------------------------------------------------
st.subheader("Cohort retention", help=definition("cohort_nrr"))
cohorts = guarded(queries.cohort_retention, filters.period)
if cohorts is not None and cohorts.empty:
    st.info("No cohort started in this period.")
elif cohorts is not None:
    measure = st.segmented_control(
        "Measure",
        ["nrr", "logo_retention"],
        default="nrr",
        key="seat_health_cohort_measure",
        format_func={"nrr": "Cohort NRR", "logo_retention": "Logo retention"}.get,
        help=definition("logo_retention"),
    )
    grid = shaping.cohort_grid(cohorts, measure or "nrr")
    st.plotly_chart(charts.cohort_heatmap(grid), width="stretch")
    st.caption("Cohorts of every segment: the cohort mart is not split by segment.")
    with st.expander("Cohort table"):
        table_with_download(
            cohorts,
            "cohort_retention.csv",
            key="seat_health_cohort_download",
            column_config={
                "cohort_month": st.column_config.DateColumn("Cohort", format="MMM YYYY"),
                "month": MONTH_COLUMN,
                "nrr": st.column_config.NumberColumn("Cohort NRR", format="percent"),
                "logo_retention": st.column_config.NumberColumn(format="percent"),
            },
        )

# ---- MRR waterfall ---------------------------------------------------------------------------
st.subheader("MRR waterfall", help=definition("mrr_waterfall"))
if portfolio is not None:
    left, right = st.columns(2)
    chosen_month = left.selectbox(
        "Month",
        shaping.months_newest_first(portfolio),
        key="seat_health_waterfall_month",
        format_func=lambda m: f"{m:%b %Y}",
    )
    chosen_segment = right.selectbox(
        "Segment",
        shaping.segments_in_order(portfolio),
        key="seat_health_waterfall_segment",
        format_func=segment_label,  # "All segments", "Mid-market": as every page names them
    )
    row = shaping.month_segment_row(portfolio, chosen_month, chosen_segment)
    st.plotly_chart(charts.mrr_waterfall(row), width="stretch")
    quick_ratio = row["quick_ratio"]
    st.caption(
        "Quick ratio this month: no contraction or churn."
        if pd.isna(quick_ratio)
        else f"Quick ratio this month: {quick_ratio:.2f}",
        help=definition("quick_ratio"),
    )
    with st.expander("Waterfall table"):
        table_with_download(
            portfolio[
                [
                    "month",
                    "segment",
                    "starting_mrr_usd",
                    "new_mrr_usd",
                    "expansion_mrr_usd",
                    "contraction_mrr_usd",
                    "churned_mrr_usd",
                    "reactivation_mrr_usd",
                    "fx_effect_mrr_usd",
                    "ending_mrr_usd",
                    "quick_ratio",
                    "new_accounts",
                    "churned_accounts",
                ]
            ],
            "mrr_waterfall.csv",
            key="seat_health_waterfall_download",
            column_config={"month": MONTH_COLUMN},
        )

# ---- ARPA and ARPU ---------------------------------------------------------------------------
st.subheader("ARPA and ARPU", help=f"{definition('arpa')} {definition('arpu')}")
if portfolio is not None:
    figure = charts.segment_lines(
        shaping.per_account_long(portfolio),
        "value",
        facet_col="measure",
        labels={"month": "Month", "value": "USD", "measure": ""},
    )
    # each panel titled by its measure alone (not "=ARPA"), each with its own labelled y-axis
    figure.for_each_annotation(lambda note: note.update(text=note.text.split("=")[-1]))
    figure.update_yaxes(matches=None, tickprefix="$", rangemode="tozero", showticklabels=True)
    st.plotly_chart(charts.legend_below(figure), width="stretch")
    with st.expander("ARPA, ARPU and support load table"):
        table_with_download(
            portfolio[
                [
                    "month",
                    "segment",
                    "billed_accounts",
                    "paid_seats",
                    "invoiced_excluding_tax_usd",
                    "arpa_usd",
                    "arpu_usd",
                    "invoice_variance",
                    "billing_and_pricing_tickets",
                    "support_load",
                ]
            ],
            "arpa_arpu.csv",
            key="seat_health_arpa_download",
            column_config={"month": MONTH_COLUMN},
        )
