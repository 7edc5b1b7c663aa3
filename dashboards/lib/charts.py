"""Plotly figures with one look: Okabe-Ito colours (safe for the common colour-vision deficiencies),
thresholds drawn as labelled lines, compact margins for a 1280x800 screen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboards.lib.definitions import segment_label, segment_labels
from dashboards.lib.format import money

# Okabe & Ito (2008), "Color Universal Design"; black left out, it reads as text.
OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#999999",  # grey
]
GOOD = "#009E73"
BAD = "#D55E00"
NEUTRAL = "#999999"
THRESHOLD = "#444444"

FONT = "Source Sans Pro, sans-serif"


# Up to this many months on a month axis, a tick on each month: Plotly's own ticks over a short
# span fall on weeks or days ("Nov 3", "Nov 10", the year on a second line), which a chart of a
# few months (a short history, a narrow period filter) showed.
MONTHLY_TICKS_UP_TO = 8


def _months_of(values: Any) -> pd.DatetimeIndex | None:
    """The values as timestamps when they are dates and every one is a month's first day (a month
    axis), else None (numbers, text, a refresh's time of day)."""
    if values is None or len(values) == 0:
        return None
    array = np.asarray(values)
    if array.dtype.kind == "O":
        if not all(
            isinstance(value, (dt.date, np.datetime64)) for value in array if value is not None
        ):
            return None
    elif array.dtype.kind != "M":
        return None
    stamps = pd.DatetimeIndex(pd.to_datetime(array)).dropna()
    if stamps.empty or not ((stamps.day == 1) & (stamps == stamps.normalize())).all():
        return None
    return stamps


def month_ticks(figure: go.Figure) -> go.Figure:
    """Each x axis that shows months and spans at most MONTHLY_TICKS_UP_TO of them: a tick on each
    month, written "Nov 2024". Longer spans keep Plotly's ticks."""
    months_by_axis: dict[str, set] = {}
    for trace in figure.data:
        months = _months_of(getattr(trace, "x", None))
        if months is None:
            continue
        axis = getattr(trace, "xaxis", None) or "x"
        months_by_axis.setdefault(axis, set()).update(months.to_period("M"))
    for axis, months in months_by_axis.items():
        if len(months) <= MONTHLY_TICKS_UP_TO:
            name = "xaxis" + axis[1:]
            figure.update_layout({name: {"dtick": "M1", "tickformat": "%b %Y"}})
    return figure


def _styled(figure: go.Figure, height: int) -> go.Figure:
    month_ticks(figure)
    figure.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 32, "b": 8},
        colorway=OKABE_ITO,
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hoverlabel={"font_size": 13},
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return figure


def color_map(values: list[str]) -> dict[str, str]:
    """A stable colour per category across every chart: sorted order, not order of appearance."""
    return {value: OKABE_ITO[index % len(OKABE_ITO)] for index, value in enumerate(sorted(values))}


ACTUAL = "#444444"  # the real invoices, drawn beside the models

# One colour per export of the contract, fixed, never shared: Okabe-Ito, then Tol's muted colours
# for the exports past eight.
EXPORT_PALETTE = [*OKABE_ITO[:7], "#332288", "#882255", "#117733", "#AA4499", "#44AA99"]


def export_colors() -> dict[str, str]:
    """Each export's colour, the same on every chart of exports (the contract's order)."""
    from orchestration.lib.contract import EXPORTS

    return {
        export: EXPORT_PALETTE[index % len(EXPORT_PALETTE)] for index, export in enumerate(EXPORTS)
    }


def model_colors(names: dict[str, str], actual_label: str = "Actual invoices") -> dict[str, str]:
    """One fixed colour per price model of the book (by id, sorted), keyed by the name charts
    show, so a model keeps its colour on every chart and page whatever else is chosen."""
    colors = {
        names[model]: OKABE_ITO[index % len(OKABE_ITO)] for index, model in enumerate(sorted(names))
    }
    return colors | {actual_label: ACTUAL}


def legend_below(figure: go.Figure, height: int = 320, *, drop: float = 0.18) -> go.Figure:
    """The revenue pages' look: compact margins, the legend under the plot (above it, it would
    cover the chart's title), `drop` of the plot's height below it (more where a tall legend
    would otherwise reach up into the x axis' title)."""
    month_ticks(figure)
    figure.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 40, "b": 8},
        legend={"orientation": "h", "yanchor": "top", "y": -drop, "x": 0, "title": None},
        colorway=OKABE_ITO,
    )
    return figure


def segment_lines(frame: pd.DataFrame, y: str, **options: Any) -> go.Figure:
    """`y` by month, one marked line per segment in its stable colour, named by its label;
    `options` go to px.line."""
    labelled, colors = _segments_labelled(frame)
    return px.line(
        labelled,
        x="month",
        y=y,
        color="segment",
        markers=True,
        color_discrete_map=colors,
        **options,
    )


def _segments_labelled(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with each segment as readers name it (definitions.segment_label), and each
    label's colour: the colour of its id in sorted order, so a segment keeps it on every chart."""
    ids = sorted(frame["segment"].unique())
    colors = {segment_label(segment): color for segment, color in color_map(ids).items()}
    return frame.assign(segment=segment_labels(frame["segment"])), colors


def actor_mix_bars(frame: pd.DataFrame, dimension: str, measure: str, labels: dict) -> go.Figure:
    """Stacked monthly bars of `measure` by `dimension` (feature or model tier), one panel for
    agents and one for humans, so what each spends its work on reads side by side."""
    figure = px.bar(
        frame,
        x="month",
        y=measure,
        color=dimension,
        facet_col="actor",
        category_orders={"actor": ["Agents", "Humans"]},
        color_discrete_map=color_map(sorted(frame[dimension].unique())),
        labels=labels,
    )
    figure.for_each_annotation(lambda note: note.update(text=note.text.split("=")[-1]))
    figure.update_layout(barmode="stack", bargap=0.15)
    figure.update_xaxes(title=None)
    return legend_below(figure, height=340)


def add_threshold(
    figure: go.Figure, value: float | None, label: str, *, axis: str = "y", dash: str = "dash"
) -> go.Figure:
    """A labelled reference line (70% utilization, 100% NRR, 97% accuracy ...); the values come
    from the build's settings (lib.definitions.threshold), and None draws nothing."""
    if value is None:
        return figure
    line = {"color": THRESHOLD, "width": 1.5, "dash": dash}
    if axis == "y":
        figure.add_hline(y=value, line=line, annotation_text=label, annotation_position="top left")
    else:
        figure.add_vline(x=value, line=line, annotation_text=label, annotation_position="top right")
    return figure


def accounts_scatter(
    accounts: pd.DataFrame, x: str, y: str, labels: dict[str, str], **options: Any
) -> go.Figure:
    """One point per account, coloured by segment, power users drawn as diamonds (the `marker`
    column: "power user" or "other"); `options` go to px.scatter."""
    labelled, colors = _segments_labelled(accounts)
    return px.scatter(
        labelled,
        x=x,
        y=y,
        color="segment",
        symbol="marker",
        symbol_map={"power user": "diamond", "other": "circle"},
        color_discrete_map=colors,
        labels={**labels, "marker": ""},
        **options,
    )


def diagonal_range(frame: pd.DataFrame, x: str, y: str) -> tuple[float, float]:
    """Ends of a y = x line across both columns' values, kept above zero for log axes."""
    low = float(max(min(frame[x].min(), frame[y].min()), 0.01))
    high = float(max(frame[x].max(), frame[y].max()))
    return low, high


def add_diagonal(figure: go.Figure, frame: pd.DataFrame, x: str, y: str, label: str) -> go.Figure:
    """A dashed y = x line across the points of `frame`, named `label` in the legend."""
    low, high = diagonal_range(frame, x, y)
    figure.add_scatter(
        x=[low, high],
        y=[low, high],
        mode="lines",
        line={"color": THRESHOLD, "dash": "dash", "width": 1.5},
        name=label,
        hoverinfo="skip",
    )
    return figure


def cohort_heatmap(grid: pd.DataFrame) -> go.Figure:
    """Cohorts (rows) by months since start (columns), the retention as colour."""
    heatmap = px.imshow(
        grid.to_numpy(),
        x=[str(column) for column in grid.columns],
        y=[month.strftime("%b %Y") for month in grid.index],
        color_continuous_scale="Cividis",
        zmin=0,
        aspect="auto",
        labels={"x": "Months since start", "y": "Cohort", "color": "Retention"},
    )
    heatmap.update_traces(hovertemplate="cohort %{y}, month %{x}: %{z:.1%}<extra></extra>")
    heatmap.update_coloraxes(colorbar_tickformat=".0%")
    return legend_below(heatmap, height=max(300, 22 * len(grid) + 80))


MRR_STEPS = [
    ("Starting", "starting_mrr_usd", "absolute"),
    ("New", "new_mrr_usd", "relative"),
    ("Expansion", "expansion_mrr_usd", "relative"),
    ("Contraction", "contraction_mrr_usd", "relative"),
    ("Churn", "churned_mrr_usd", "relative"),
    ("Reactivation", "reactivation_mrr_usd", "relative"),
    ("FX", "fx_effect_mrr_usd", "relative"),
    ("Ending", "ending_mrr_usd", "total"),
]


def mrr_waterfall(row: pd.Series) -> go.Figure:
    """One month's MRR bridge, starting to ending, from a revenue-portfolio row."""
    waterfall = go.Figure(
        go.Waterfall(
            x=[label for label, _, _ in MRR_STEPS],
            y=[float(row[column]) if label != "Ending" else 0.0 for label, column, _ in MRR_STEPS],
            measure=[measure for _, _, measure in MRR_STEPS],
            text=[money(row[column]) for _, column, _ in MRR_STEPS],
            textposition="outside",
            increasing={"marker": {"color": GOOD}},
            decreasing={"marker": {"color": BAD}},
            totals={"marker": {"color": OKABE_ITO[0]}},
            connector={"line": {"color": NEUTRAL}},
        )
    )
    waterfall.update_yaxes(tickprefix="$", tickformat="~s")
    return legend_below(waterfall, height=340)


def accuracy_trend(trend: pd.DataFrame) -> go.Figure:
    """Line accuracy by month and segment, the y axis from 90% (or lower) and the bar drawn."""
    figure = segment_lines(
        trend,
        "line_match_rate",
        labels={"month": "Month", "line_match_rate": "Lines matching", "segment": "Segment"},
        hover_data={"judged_lines": True, "mismatched_lines": True, "amount_match_rate": ":.2%"},
    )
    figure.update_yaxes(tickformat=".0%", range=[min(0.9, trend["line_match_rate"].min()), 1.005])
    figure.update_layout(
        height=320,
        margin={"l": 8, "r": 8, "t": 32, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
    )
    return add_threshold(figure, float(trend["accuracy_bar"].iloc[0]), "97% bar")


def quarantine_by_rule(by_rule: pd.DataFrame) -> go.Figure:
    """Horizontal bars, one per rule, stacked by export: the longest bar is the first to fix."""
    totals = by_rule.groupby("rule", as_index=False)["rows_quarantined"].sum()
    rule_order = totals.sort_values(["rows_quarantined", "rule"], ascending=[True, False])["rule"]
    colors = export_colors() | {
        export: NEUTRAL for export in by_rule["export"].unique() if export not in export_colors()
    }
    figure = go.Figure()
    for export, rows in by_rule.groupby("export", sort=True):
        figure.add_bar(
            name=export,
            y=rows["rule"],
            x=rows["rows_quarantined"],
            orientation="h",
            marker_color=colors[export],
            customdata=rows[["files"]],
            hovertemplate=(
                "<b>%{y}</b><br>export: " + export + "<br>rows: %{x:,}<br>files: %{customdata[0]}"
                "<extra></extra>"
            ),
        )
    figure.update_layout(barmode="stack", showlegend=True)
    figure.update_yaxes(categoryorder="array", categoryarray=list(rule_order), title=None)
    # Row counts are whole numbers: below ten, force unit steps so no tick reads "0 1 1 2 2".
    few = by_rule.groupby("rule")["rows_quarantined"].sum().max() < 10
    figure.update_xaxes(
        title="rows quarantined", tickformat=",d", rangemode="tozero", dtick=1 if few else None
    )
    return _styled(figure, height=max(220, 60 + 36 * len(rule_order)))


def rows_by_refresh(history: pd.DataFrame) -> go.Figure:
    """Rows loaded and quarantined per published refresh, oldest left, so a jump stands out."""
    ordered = history.sort_values("finished_at")
    figure = go.Figure()
    figure.add_bar(
        name="rows loaded",
        x=ordered["finished_at"],
        y=ordered["rows_loaded"],
        marker_color=OKABE_ITO[0],
        customdata=ordered[["refresh_id"]],
        hovertemplate="%{customdata[0]}<br>loaded: %{y:,}<extra></extra>",
    )
    figure.add_bar(
        name="rows quarantined",
        x=ordered["finished_at"],
        y=ordered["rows_quarantined"],
        marker_color=BAD,
        customdata=ordered[["refresh_id"]],
        hovertemplate="%{customdata[0]}<br>quarantined: %{y:,}<extra></extra>",
    )
    figure.update_layout(barmode="group")
    figure.update_yaxes(title="rows", tickformat="~s", rangemode="tozero")
    figure.update_xaxes(title=None)
    return _styled(figure, height=260)


def signal_trend(
    monthly: pd.DataFrame,
    column: str,
    title: str,
    *,
    threshold: float | None,
    threshold_label: str,
    crossed_since: pd.Timestamp | None = None,
    points: bool = False,
    height: int = 220,
) -> go.Figure:
    """One trigger signal of a segment by month, its threshold drawn, the crossed run shaded.

    `points`: the values are fraction points (a change), shown as +12.0 pts rather than 12%.
    """
    frame = monthly[["month", column]].copy()
    scale = 100.0 if points else 1.0
    frame["value"] = frame[column].astype("float64") * scale
    value_format = "%{y:+.1f} pts" if points else "%{y:.1%}"
    hover = "%{x|%b %Y}: " + value_format + "<extra></extra>"
    figure = go.Figure(
        go.Scatter(
            x=frame["month"],
            y=frame["value"],
            mode="lines+markers",
            line={"color": OKABE_ITO[0], "width": 2},
            connectgaps=False,  # months without a value (not enough history) stay gaps
            hovertemplate=hover,
            name=title,
        )
    )
    if crossed_since is not None:
        figure.add_vrect(
            x0=crossed_since - pd.Timedelta(days=15),
            x1=frame["month"].max() + pd.Timedelta(days=15),
            fillcolor=BAD,
            opacity=0.08,
            line_width=0,
            annotation_text="crossed",
            annotation_position="top left",
        )
    add_threshold(figure, None if threshold is None else threshold * scale, threshold_label)
    figure.update_layout(title={"text": title, "font": {"size": 14}}, showlegend=False)
    figure.update_yaxes(ticksuffix=" pts" if points else None, tickformat=None if points else ".0%")
    figure.update_xaxes(tickformat="%b %Y", title=None)
    figure.update_yaxes(title=None, automargin=True)
    figure = _styled(figure, height)
    figure.update_layout(margin={"l": 56, "r": 8, "t": 32, "b": 8})  # room for the tick labels
    return figure


def _rgba(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[index : index + 2], 16) for index in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def projection_band(
    projection: pd.DataFrame, colors: dict[str, str], reference: pd.DataFrame | None = None
) -> go.Figure:
    """Per model (its fixed colour, keyed by name), the worst..best band shaded and the middle
    scenario drawn as a line, month by month from the as-of month. With `reference` (the build's
    projection beside an edited one) its middle scenario is drawn dotted in the same colour."""
    figure = go.Figure()
    if reference is not None:
        for name, rows in reference[reference["scenario"] == "middle"].groupby("name", sort=False):
            middle = rows.sort_values("month")
            figure.add_trace(
                go.Scatter(
                    x=middle["month"],
                    y=middle["projected_revenue_usd"].astype(float),
                    mode="lines",
                    line={"color": colors.get(str(name), NEUTRAL), "width": 1.5, "dash": "dot"},
                    name=f"{name} (as built)",
                    legendgroup=str(name),
                    hovertemplate="%{x|%b %Y}: $%{y:,.0f} (middle, as built)<extra>"
                    + str(name)
                    + "</extra>",
                )
            )
    for name, rows in projection.groupby("name", sort=False):
        color = colors.get(str(name), NEUTRAL)
        by_scenario = {
            scenario: part.sort_values("month") for scenario, part in rows.groupby("scenario")
        }
        if {"worst", "best"} <= set(by_scenario):
            band_x = list(by_scenario["best"]["month"]) + list(by_scenario["worst"]["month"])[::-1]
            band_y = (
                list(by_scenario["best"]["projected_revenue_usd"].astype(float))
                + list(by_scenario["worst"]["projected_revenue_usd"].astype(float))[::-1]
            )
            figure.add_trace(
                go.Scatter(
                    x=band_x,
                    y=band_y,
                    fill="toself",
                    fillcolor=_rgba(color, 0.15),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=str(name),
                )
            )
        if "middle" in by_scenario:
            middle = by_scenario["middle"]
            figure.add_trace(
                go.Scatter(
                    x=middle["month"],
                    y=middle["projected_revenue_usd"].astype(float),
                    mode="lines",
                    line={"color": color, "width": 2},
                    name=str(name),
                    legendgroup=str(name),
                    hovertemplate="%{x|%b %Y}: $%{y:,.0f} (middle)<extra>" + str(name) + "</extra>",
                )
            )
    figure.update_yaxes(title="MRR, USD a month", tickformat="~s", rangemode="tozero")
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=360)


def new_business_line(new_business: pd.DataFrame, base: pd.DataFrame | None = None) -> go.Figure:
    """New business carried forward, a line of its own (dashed); `base`, the current model's
    middle projection of today's base, drawn beside it for scale, never added to it."""
    figure = go.Figure()
    if base is not None and not base.empty:
        middle = base.sort_values("month")
        figure.add_trace(
            go.Scatter(
                x=middle["month"],
                y=middle["projected_revenue_usd"].astype(float),
                mode="lines",
                line={"color": ACTUAL, "width": 2},
                name="Today's base, current model (middle)",
                hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>today's base</extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=new_business["month"],
            y=new_business["projected_new_revenue_usd"].astype(float),
            mode="lines",
            line={"color": GOOD, "width": 2, "dash": "dash"},
            name="New business (separate line)",
            hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>new business</extra>",
        )
    )
    figure.update_yaxes(title="MRR, USD a month", tickformat="~s", rangemode="tozero")
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=300)


def backtest_lines(backtest: pd.DataFrame) -> go.Figure:
    """The backtest: what the method projected from its origin beside the MRR the base actually
    had, and the two naive forecasts of the same base (flat, trailing NRR), dotted."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=backtest["month"],
            y=backtest["actual_revenue_usd"].astype(float),
            mode="lines+markers",
            line={"color": ACTUAL, "width": 2},
            name="Actual MRR of the base",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=backtest["month"],
            y=backtest["projected_revenue_usd"].astype(float),
            mode="lines+markers",
            line={"color": OKABE_ITO[0], "width": 2, "dash": "dash"},
            name="Projected at the origin (middle)",
        )
    )
    for column, name, color in (
        ("flat_revenue_usd", "Flat forecast", NEUTRAL),
        ("trailing_nrr_revenue_usd", "Trailing-NRR forecast", OKABE_ITO[1]),
    ):
        if column in backtest:
            figure.add_trace(
                go.Scatter(
                    x=backtest["month"],
                    y=backtest[column].astype(float),
                    mode="lines",
                    line={"color": color, "width": 1.5, "dash": "dot"},
                    name=name,
                )
            )
    figure.update_yaxes(title="MRR, USD a month", tickformat="~s", rangemode="tozero")
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=320)


def choice_lines(long: pd.DataFrame) -> go.Figure:
    """A proposal forced on everyone and offered as an option (road_ahead.choice_long), beside
    the current model: the gap between the first two is the adverse selection."""
    lines = list(dict.fromkeys(long["line"]))
    palette = {
        line: ACTUAL if line.startswith("Stay") else OKABE_ITO[index % len(OKABE_ITO)]
        for index, line in enumerate(lines)
    }
    figure = px.line(
        long, x="month", y="revenue_usd", color="line", color_discrete_map=palette, markers=True
    )
    for trace in figure.data:
        if trace.name.endswith("under choice"):
            trace.line.dash = "dash"
    figure.update_yaxes(
        title="MRR, USD a month (projected, middle)", tickformat="~s", rangemode="tozero"
    )
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=320)


def plan_impact_lines(long: pd.DataFrame) -> go.Figure:
    palette = {
        "Stay on the current model": ACTUAL,
        "Everyone switches at once, no credit": NEUTRAL,
        "The plan": OKABE_ITO[0],
        "The plan, offered as an option": OKABE_ITO[1],
    }
    figure = px.line(
        long, x="month", y="revenue_usd", color="line", color_discrete_map=palette, markers=True
    )
    figure.update_yaxes(
        title="MRR, USD a month (projected, middle)", tickformat="~s", rangemode="tozero"
    )
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=320)


def mrr_cash_and_cost(frame: pd.DataFrame, model_name: str) -> go.Figure:
    """One model's projected MRR (a line), the cash it brings in each month (bars: annual plans
    land whole, usage a month late) and its cost to serve (dotted), middle scenario."""
    rows = frame.sort_values("month")
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=rows["month"],
            y=rows["projected_cash_usd"].astype(float),
            marker={"color": _rgba(OKABE_ITO[4], 0.55)},
            name="Cash in the month",
            hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>cash</extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=rows["month"],
            y=rows["projected_revenue_usd"].astype(float),
            mode="lines",
            line={"color": ACTUAL, "width": 2},
            name="MRR",
            hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>MRR</extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=rows["month"],
            y=rows["projected_cost_usd"].astype(float),
            mode="lines",
            line={"color": BAD, "width": 2, "dash": "dot"},
            name="Cost to serve",
            hovertemplate="%{x|%b %Y}: $%{y:,.0f}<extra>cost to serve</extra>",
        )
    )
    figure.update_layout(title={"text": f"{model_name} (middle)", "font": {"size": 14}})
    figure.update_yaxes(title="USD a month", tickformat="~s", rangemode="tozero")
    figure.update_xaxes(title=None, tickformat="%b %Y")
    return legend_below(figure, height=320)


def pilot_months(
    monthly: pd.DataFrame,
    title: str,
    threshold: float | None = None,
    threshold_label: str = "rollback threshold",
    percent_axis: bool = False,
) -> go.Figure:
    """One readout metric month by month around the switch (0): the pilot arm and the control
    arm, a line at the switch, and a rollback trigger's threshold dashed where one judges it."""
    figure = go.Figure()
    for arm, color in (("pilot", OKABE_ITO[5]), ("control", OKABE_ITO[0])):
        rows = monthly[monthly["arm"] == arm].sort_values("months_from_switch")
        figure.add_trace(
            go.Scatter(
                x=rows["months_from_switch"],
                y=rows["mean_value"].astype(float),
                mode="lines+markers",
                line={"color": color, "width": 2},
                name=arm.capitalize(),
                customdata=rows["units"],
                hovertemplate="month %{x:+d}: %{y:,.3~f} (%{customdata} accounts)<extra>"
                + arm
                + "</extra>",
            )
        )
    figure.add_vline(x=-0.5, line={"color": THRESHOLD, "width": 1, "dash": "dot"})
    figure.add_annotation(
        x=-0.5, y=1, yref="paper", text="switch", showarrow=False, yanchor="bottom"
    )
    if threshold is not None:
        figure.add_hline(
            y=threshold,
            line={"color": BAD, "width": 1.5, "dash": "dash"},
            annotation_text=threshold_label,
            annotation_position="top left",
        )
    figure.update_layout(title={"text": title, "font": {"size": 14}})
    figure.update_xaxes(title="Months from the switch", dtick=1)
    figure.update_yaxes(title=None, rangemode="tozero", tickformat=".0%" if percent_axis else "~s")
    return legend_below(figure, height=320)
