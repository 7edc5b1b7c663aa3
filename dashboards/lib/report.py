"""The decision pack: one self-contained HTML file for the pricing review.

Written from the same queries and shaping as the Overview (lib.queries, lib.decision), so it shows
the page's numbers: the trigger status of every segment and its evidence, the proposals' shadow
billing, the pilot list, the projection and the migration plan's waves (the Projection and
Migration plan pages' numbers), the settings in force, the data's as-of time and quality. Styles,
the charts and their library (plotly.js) are inline: the file opens offline from file://.
Used by the Overview's button and by `seatshift report`.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pandas as pd

from dashboards.lib import caps, charts, choice, decision, margin, pilot, pools, queries, road_ahead
from dashboards.lib.definitions import label, segment_label, segment_labels
from dashboards.lib.format import MISSING, count, counted, money, percent, timestamp
from dashboards.lib.shaping import signed_percent

PILOT_ROWS = 25

STYLE = """
body{font-family:"Source Sans Pro",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;
color:#222;padding:0 16px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 8px;border-bottom:1px solid #ddd;
padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:13px}.status{font-weight:600;padding:1px 8px;border-radius:8px}
.warn{color:#8a4b00;font-size:13px;font-weight:600}
.crossed{background:#fbe3d6;color:#8a3100}.watch{background:#fdf0d0;color:#7a5200}
.healthy{background:#d8f0e6;color:#00573f}
.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}
"""


def file_name(segment: str | None, price_model_id: str | None) -> str:
    parts = ["seatshift_decision_pack", segment or "all", price_model_id or "auto"]
    return "_".join(parts) + ".html"


def build_report_bytes(
    segment: str | None = None,
    price_model_id: str | None = None,
    thresholds: tuple[tuple[str, float], ...] = (),
) -> bytes:
    return build_report(segment, price_model_id, thresholds).encode("utf-8")


def build_report(
    segment: str | None = None,
    price_model_id: str | None = None,
    thresholds: tuple[tuple[str, float], ...] = (),
) -> str:
    return build_pack(segment, price_model_id, thresholds)[1]


def build_pack(
    segment: str | None = None,
    price_model_id: str | None = None,
    thresholds: tuple[tuple[str, float], ...] = (),
) -> tuple[str, str]:
    """The pack's file name and HTML. `segment` defaults to the segment most in need of a
    decision (crossed first), `price_model_id` to the proposal the Overview suggests for it;
    `thresholds` are the what-if thresholds (setting name, value) if the reader moved any.
    Raises QueryFailed when the warehouse cannot be read."""
    triggers = queries.trigger_what_if(thresholds) if thresholds else queries.migration_triggers()
    if triggers.empty:
        raise queries.QueryFailed("The warehouse holds no months to judge yet.", "")
    names = queries.price_model_names()
    settings = queries.settings_in_force()
    values = {
        name: float(value)
        for name, value in zip(settings["name"], settings["value"], strict=True)
        if _is_number(value)
    } | dict(thresholds)
    if segment is not None:
        segment = _known(
            segment, {found: segment_label(found) for found in triggers["segment"].unique()},
            "segment",
        )  # fmt: skip
    if price_model_id is not None:
        price_model_id = _known(
            price_model_id,
            {found: names.get(found, found) for found in triggers["price_model_id"].unique()},
            "proposal",
        )
    status = decision.latest_status(triggers)
    ranked = status.sort_values(["status_order", "segment"])
    segment = segment or str(ranked["segment"].iloc[0])
    price_model_id = (
        price_model_id
        or decision.pilot_model(triggers, segment)
        or str(decision.proposals_at(triggers, segment)["price_model_id"].iloc[0])
    )
    month = decision.as_of_month(triggers)
    sections = [
        _header(month, thresholds),
        _status_section(status, triggers, names, values),
        _evidence_section(triggers, segment, status, values),
        _proposals_section(triggers, segment, names),
        _choice_section(segment, price_model_id, names, month, values),
        _shadow_section(names),
        _caps_section(names),
        _pools_section(names),
        _model_costs_section(),
        _pilot_section(segment, price_model_id, names, triggers),
        _projection_section(segment, price_model_id, names),
        _margin_and_cash_section(segment, price_model_id),
        _plan_section(segment, price_model_id, names),
        _after_the_switch_section(),
        _settings_section(settings, thresholds),
        _quality_section(),
    ]
    title = f"seatshift decision pack: {segment_label(segment)}"
    return file_name(segment, price_model_id), (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "".join(sections) + "</body></html>"
    )


def _known(given: str, known: dict[str, str], what: str) -> str:
    """The id of `given`, named by its id or by its label (case aside) among `known` (id ->
    label); QueryFailed naming every choice when it is neither."""
    for found, shown in known.items():
        if given == found or given.casefold() == str(shown).casefold():
            return found
    raise queries.QueryFailed(
        f"This build has no {what} {given!r}.",
        "Name one by its id or its name: "
        + ", ".join(f"{found} ({shown})" for found, shown in sorted(known.items()))
        + ".",
    )


# ---- sections --------------------------------------------------------------------------------


def _header(month: pd.Timestamp, thresholds: tuple) -> str:
    as_of = queries.data_as_of()
    attempt = queries.last_refresh_attempt()
    history = queries.refresh_history()
    published = history["finished_at"].iloc[0] if len(history) else None
    refresh = (
        f"last refresh {attempt.status} at {timestamp(attempt.finished_at)}"
        if attempt is not None
        else f"published {timestamp(published)}"
    )
    what_if = (
        "<p><strong>What-if:</strong> judged with thresholds that differ from the build's: "
        + ", ".join(f"{_e(name)} = {value:g}" for name, value in thresholds)
        + ".</p>"
        if thresholds
        else ""
    )
    return (
        f"<p class='muted'>Data as of <strong>{_e(timestamp(as_of))}</strong> · {_e(refresh)} · "
        f"trigger judged at <strong>{month:%B %Y}</strong> · written "
        f"{_e(timestamp(datetime.now(UTC)))}</p>{what_if}"
    )


def _status_section(status: pd.DataFrame, triggers: pd.DataFrame, names, values) -> str:
    rows = []
    for _, row in status.iterrows():
        since = decision.since_of(row)
        passing = decision.proposals_at(triggers, row["segment"])
        passing = passing[passing["is_triggered"].astype(bool)]["price_model_id"]
        checks = decision.signal_checks(row, values).set_index("signal")
        rows.append(
            {
                "Segment": segment_label(row["segment"]),
                "Status": f"<span class='status {row['segment_status']}'>"
                f"{row['segment_status']}</span>",
                "Crossed since": "" if since is None else f"{since:%b %Y}",
                "With": ", ".join(_e(names.get(p, p)) for p in passing),
                **{
                    decision.SIGNAL_HEADERS[signal]: checks.loc[signal, "value_text"]
                    + (" ●" if checks.loc[signal, "met"] else "")
                    for signal in checks.index
                },
            }
        )
    note = (
        "<p class='muted'>● the signal meets the trigger's condition. A segment crosses when value "
        "is leaving its seats and a proposal passes its guardrails there.</p>"
    )
    return "<h2>Trigger status by segment</h2>" + _table(pd.DataFrame(rows), raw=True) + note


def _evidence_section(triggers, segment, status, values) -> str:
    monthly = decision.signals_by_month(triggers, segment)
    row = status[status["segment"] == segment]
    since = decision.since_of(row.iloc[0]) if len(row) else None
    specs = decision.TRENDS
    figures = []
    for index, (signal, setting, points) in enumerate(specs):
        bound = values.get(setting)
        figure = charts.signal_trend(
            monthly,
            signal,
            decision.SIGNAL_HEADERS[signal],
            threshold=bound,
            threshold_label=decision.signal_value_text(bound, "points" if points else "fraction"),
            crossed_since=since,
            points=points,
            height=240,
        )
        figures.append(
            figure.to_html(
                full_html=False,
                include_plotlyjs=index == 0,  # the library once, inline
                config={"displayModeBar": False, "responsive": True},
            )
        )
    return (
        f"<h2>Evidence: {_e(segment_label(segment))}</h2>"
        "<div class='grid'>" + "".join(f"<div>{figure}</div>" for figure in figures) + "</div>"
        "<h3>The signals by month</h3>" + _table(decision.signals_table(monthly))
    )


def _proposals_section(triggers, segment, names) -> str:
    proposals = decision.proposals_at(triggers, segment)
    table = decision.proposals_table(proposals, names)
    table["Shadow bill-shock rate"] = table["Shadow bill-shock rate"].map(percent)
    table["Revenue change"] = table["Revenue change"].map(signed_percent)
    window = int(proposals["window_months"].max()) if len(proposals) else 0
    return (
        f"<h2>Which proposal passes in {_e(segment_label(segment))}</h2>"
        + _table(table)
        + f"<p class='muted'>Over the trailing {window} months, on the MRR basis: the revenue "
        "change sets each proposal's charges against the MRR its accounts had in those "
        "months.</p>"
    )


def _choice_section(segment: str, price_model_id: str, names, month, values) -> str:
    """The proposal offered beside the seats against the forced switch, per segment (the
    Overview's numbers): the adverse selection of offering it as an option."""
    name = names.get(price_model_id, price_model_id)
    title = f"<h2>{_e(name)}: forced switch or offered beside the seats</h2>"
    rows = queries.customer_choice_by_segment((price_model_id,))
    if rows.empty:
        return title + "<p>No account pays at the last month of data: nobody to offer it to.</p>"
    table = choice.table(rows)
    offered = str(rows["offered_as"].iloc[0])
    focus = choice.segment_row(rows, segment)
    headline = ""
    if focus is not None:
        headline = (
            f"<p>In {_e(segment_label(segment))}: "
            f"{_e(money(focus['forced_switch_usd']))} under the forced switch, "
            f"{_e(money(focus['choice_usd']))} under choice "
            f"({_e(count(focus['switching_accounts']))} of {_e(count(focus['accounts']))} accounts "
            f"would switch), against {_e(money(focus['current_usd']))} if nobody moves: an adverse "
            f"selection of {_e(money(focus['adverse_selection_usd']))}.</p>"
        )
    inertia = values.get("choice_inertia_pct")
    return (
        title
        + headline
        + _table(table)
        + f"<p class='muted'>MRR basis, summed over {_e(choice.window_text(rows))}, for the "
        f"accounts paying at {month:%b %Y}. Offered beside the seats, an account takes the "
        f"proposal when it would have paid at least {_e(percent(inertia, 0))} less under it over "
        "those months; otherwise it stays. The price book offers it "
        + (
            "as an option: the revenue to expect is the revenue under choice."
            if offered == "option"
            else "as a replacement (everyone moves); the revenue under choice is what offering "
            "it as an option would bring instead."
        )
        + "</p>"
    )


def _shadow_section(names) -> str:
    guardrails = queries.price_model_guardrails(tuple(names))
    frame = pd.DataFrame(
        {
            "Model": guardrails["name"],
            "Segment": segment_labels(guardrails["segment"]),
            "Actual billings (USD)": guardrails["actual_usd"].map(money),
            "Shadow billings (USD)": guardrails["shadow_usd"].map(money),
            "Revenue change": guardrails["revenue_delta_pct"].map(signed_percent),
            "Bill-shock rate": guardrails["bill_shock_rate"].map(percent),
            "Winners": guardrails["winners_share"].map(percent),
            "Losers": guardrails["losers_share"].map(percent),
            "Shadow margin": guardrails["shadow_gross_margin"].map(percent),
            # the decision's verdict is the trigger's (trailing window), in the sections above
            "Guardrails (whole history)": guardrails["is_passing"].map(
                {True: "within", False: "outside"}
            ),
            "Why": guardrails["failure_reason"].fillna(""),
        }
    )
    return "<h2>Shadow billing: every model over the whole history, by segment</h2>" + _table(frame)


def _caps_section(names) -> str:
    """What each capped proposal's spend caps did over the history, per segment."""
    proposals = tuple(model for model in names if model != "current_per_seat")
    rows = queries.spend_caps(proposals)
    title = "<h2>Spend caps: revenue given up, usage blocked, bill shock avoided</h2>"
    if rows.empty:
        return title + "<p class='muted'>No proposal of the price book carries a spend cap.</p>"
    guardrails = queries.price_model_guardrails(proposals)
    return (
        title
        + "<p class='muted'>Each capped proposal re-rated with its caps over the whole history: "
        "a hard cap stops the bill and the service at the cap, a soft cap only alerts. Bill "
        "shock avoided counts the account-months the uncapped bill would have shocked.</p>"
        + _table(caps.table(rows, guardrails, names))
    )


def _pools_section(names) -> str:
    """Each pool proposal's alerts, liability and breakage over the history, the portfolio."""
    rows = queries.prepaid_pools(tuple(names))
    if rows.empty:
        return ""
    return (
        "<h2>Prepaid pools: alerts, liability and breakage</h2>"
        "<p class='muted'>Every segment. The latest month's accounts whose usage reached each "
        "alert (70%, 90%, 100% of the month's available units) and the unused balance they carry "
        "(prepaid, not yet served: a liability), and the units that expired over every month "
        "(breakage), both at the pool's price per unit.</p>" + _table(pools.summary(rows, names))
    )


def _model_costs_section() -> str:
    """Each LLM tier's first and latest price and the yearly decline measured between them."""
    curve = queries.model_cost_curve()
    if curve.empty:
        return ""
    frame = pd.DataFrame(
        {
            "Model tier": curve["model"],
            "First price from": curve["first_effective_from"].map(_text),
            "First, per 1k in + 1k out (USD)": curve["first_usd_per_1k_in_and_out"].map(_text),
            "Latest price from": curve["latest_effective_from"].map(_text),
            "Latest, per 1k in + 1k out (USD)": curve["latest_usd_per_1k_in_and_out"].map(_text),
            "Yearly cost decline": curve["yearly_decline"].map(percent),
            "Decline in the projection": [
                percent(applied) + (" (set)" if is_set else "")
                for applied, is_set in zip(
                    curve["projection_yearly_decline"],
                    curve["is_projection_decline_set"],
                    strict=True,
                )
            ],
        }
    )
    return (
        "<h2>Model costs over time</h2><p class='muted'>The cost to serve uses each month's price "
        "in force from the analyst's price list; the decline is measured between a tier's first "
        "and latest dated price (0 with one price).</p>" + _table(frame)
    )


def _pilot_section(segment: str, price_model_id: str, names, triggers: pd.DataFrame) -> str:
    title = (
        f"<h2>Pilot list: {_e(segment_label(segment))} under "
        f"{_e(names.get(price_model_id, price_model_id))}</h2>"
    )
    if segment == "all":
        return title + "<p>Pilots are chosen within one segment.</p>"
    piloted = decision.pilot_proposals(triggers, segment)
    if not piloted:
        return title + f"<p>{_e(decision.no_pilot_list_text(triggers, segment))}</p>"
    if price_model_id not in piloted:
        return title + (
            f"<p>{_e(names.get(price_model_id, price_model_id))} does not pass the migration "
            f"trigger in {_e(segment_label(segment))}: no pilot list is offered for it.</p>"
        )
    pilots = queries.pilot_accounts(segment, price_model_id)
    if pilots.empty:
        return title + "<p>No account of this segment was billed in the window.</p>"
    table = decision.pilot_table(pilots).head(PILOT_ROWS)
    table["Fit score"] = table["Fit score"].map(lambda score: f"{score:.2f}")
    table["Bill change"] = table["Bill change"].map(signed_percent)
    table["Automation share"] = table["Automation share"].map(percent)
    table["Margin change (points)"] = decision.margin_points_shown(
        table["Margin change (points)"]
    ).map(lambda points: MISSING if pd.isna(points) else f"{points:+.1f}")
    for column in ("MRR in the window (USD)", "On the proposal (USD)"):
        table[column] = table[column].map(money)
    said = decision.pilot_count_text(pilots, names.get(price_model_id, price_model_id))
    return (
        title
        + f"<p class='muted'>{_e(said)} The best {len(table)} by fit score below.</p>"
        + _table(table)
    )


def _projection_section(segment: str, price_model_id: str, names) -> str:
    """The road ahead under the current model and the proposal: the band, the 6/12/24-month
    totals and the backtest error beside them (the Projection page's numbers)."""
    models = queries.price_models()
    current = [str(m) for m in models.loc[models["is_current_model"], "price_model_id"]]
    shown = tuple(dict.fromkeys([*current, price_model_id]))
    all_names = dict(zip(models["price_model_id"], models["name"], strict=True))
    projection = queries.revenue_projection(segment, shown)
    title = f"<h2>The road ahead: {_e(segment_label(segment))}</h2>"
    if projection.empty:
        return title + "<p>No projection in this build.</p>"
    totals = queries.projection_totals(segment, road_ahead.HORIZONS)
    table = road_ahead.totals_table(totals[totals["price_model_id"].isin(shown)])
    frame = pd.DataFrame({"Model": table["name"]})
    for months in road_ahead.HORIZONS:
        frame[f"Next {months} months (worst .. best)"] = [
            f"{money(row[f'middle_{months}m'])} ({money(row[f'worst_{months}m'])} .. "
            f"{money(row[f'best_{months}m'])})"
            for _, row in table.iterrows()
        ]
    frame["Backtest error"] = [
        percent(error) + (" (carried)" if carried else "")
        for error, carried in zip(table["backtest_mape"], table["is_backtest_carried"], strict=True)
    ]
    # the recommended proposal forced on everyone beside offered as an option (middle scenario)
    if price_model_id not in current:
        choice_frame = pd.DataFrame(
            {
                "Next": [f"{months} months" for months in road_ahead.HORIZONS],
                label("forced_switch_revenue"): [
                    money(road_ahead.total_of(totals, price_model_id, "middle", months))
                    for months in road_ahead.HORIZONS
                ],
                label("projection_choice_revenue"): [
                    money(road_ahead.choice_total_of(totals, price_model_id, months))
                    for months in road_ahead.HORIZONS
                ],
            }
        )
        choice_html = (
            f"<h3>{_e(all_names.get(price_model_id, price_model_id))}: forced switch or offered "
            "as an option</h3><p class='muted'>MRR of months 1 .. <i>h</i>, middle scenario; "
            "under choice each existing account is projected under the option it takes by the "
            f"customer-choice rule ({_e(road_ahead.choosing_text(totals, price_model_id))}).</p>"
            + _table(choice_frame)
        )
    else:
        choice_html = ""
    band = charts.projection_band(projection, charts.model_colors(all_names)).to_html(
        full_html=False,
        include_plotlyjs=False,  # the evidence section inlined the library already
        config={"displayModeBar": False, "responsive": True},
    )
    backtest = queries.projection_backtest(segment)
    beats, verdict = road_ahead.backtest_verdict(backtest)
    errors = (
        f"Backtest error (MAPE) of the method {percent(road_ahead.backtest_mape(backtest))}; "
        f"of the flat forecast {percent(road_ahead.backtest_mape(backtest, 'flat_mape'))}; of the "
        "trailing-NRR forecast "
        f"{percent(road_ahead.backtest_mape(backtest, 'trailing_nrr_mape'))}. {verdict}"
    )
    month_zero = projection[projection["months_ahead"] == 0]
    base_accounts = int(month_zero["base_accounts"].max()) if not month_zero.empty else 0
    as_of = pd.Timestamp(projection["as_of_month"].iloc[0])
    span = road_ahead.backtest_months_back(backtest)
    months_back = counted(span, "month") if span else "some months"
    return (
        title + f"<p class='muted'>MRR of the {count(base_accounts)} existing accounts from "
        f"{as_of:%B %Y} (month 0), middle scenario with the worst .. best band; no new business. "
        "A total over the next <i>h</i> months sums the MRR of months 1 .. <i>h</i>. The backtest "
        f"runs the same method {months_back} back on that month's existing accounts against the "
        "MRR they actually had; a proposal carries the current model's error.</p>"
        + band
        + _table(frame)
        + f"<p class='{'muted' if beats is not False else 'warn'}'>{_e(errors)}</p>"
        + choice_html
    )


def _margin_and_cash_section(segment: str, price_model_id: str) -> str:
    """Beside the road ahead: the cost to serve along the cost curve, the margin, and the cash
    the current model and the proposal bring in (the Projection page's numbers)."""
    models = queries.price_models()
    current = [str(m) for m in models.loc[models["is_current_model"], "price_model_id"]]
    shown = tuple(dict.fromkeys([*current, price_model_id]))
    all_names = dict(zip(models["price_model_id"], models["name"], strict=True))
    rows = queries.projection_margin_and_cash(segment, shown)
    if rows.empty:
        return ""
    totals = margin.totals(rows, all_names)
    middle = rows[(rows["price_model_id"] == price_model_id) & (rows["scenario"] == "middle")]
    chart = charts.mrr_cash_and_cost(middle, all_names.get(price_model_id, price_model_id))
    return (
        f"<h2>Margin and cash: {_e(segment_label(segment))}</h2>"
        "<p class='muted'>Middle scenario. The cost to serve grows with the segment's projected "
        "tokens and falls along each tier's cost curve (the table above); the margin is the MRR "
        "less that cost. Cash is when the money arrives: seat and flat fees in their month, "
        "usage a month late, an annual plan whole when it is billed. Cash - MRR below 0 is "
        "revenue earned before it is collected.</p>"
        + _table(margin.table(totals))
        + chart.to_html(
            full_html=False,
            include_plotlyjs=False,  # the evidence section inlined the library already
            config={"displayModeBar": False, "responsive": True},
        )
    )


def _plan_section(segment: str, price_model_id: str, names) -> str:
    """The migration plan's waves under the proposal (the Migration plan page's numbers)."""
    title = (
        f"<h2>Migration plan: {_e(segment_label(segment))} to "
        f"{_e(names.get(price_model_id, price_model_id))}</h2>"
    )
    waves = queries.migration_waves(segment, price_model_id)
    if waves.empty:
        return title + "<p>No active account to migrate.</p>"
    impact = road_ahead.impact_totals(queries.migration_plan_impact(segment, price_model_id), 12)
    frame = pd.DataFrame(
        {
            "Wave": waves["wave"],
            "Switches": [
                f"{first:%b %Y}" if first == last else f"{first:%b %Y} .. {last:%b %Y}"
                for first, last in zip(
                    waves["first_switch_month"], waves["last_switch_month"], strict=True
                )
            ],
            "Accounts": waves["accounts"].map(count),
            "Held for a readout": waves["held_accounts"].map(count),
            "MRR now (USD a month)": waves["current_monthly_usd"].map(money),
            "MRR on the proposal (USD a month)": waves["proposed_monthly_usd"].map(money),
            "Change": waves["delta_pct"].map(signed_percent),
            "Credited accounts": waves["credited_accounts"].map(count),
            "Transition credits (USD)": waves["transition_credit_total_usd"].map(money),
            "Shocked without credit": waves["shocked_without_credit"].map(count),
            "Shocked with credit": waves["shocked_at_switch"].map(count),
        }
    )
    return (
        title + _table(frame) + "<p class='muted'>MRR of the existing accounts over the plan's "
        "first 12 months (middle scenario of the projection): "
        f"{_e(money(impact['plan_projected_revenue_usd']))} under the plan, "
        f"{_e(money(impact['current_projected_revenue_usd']))} if nobody moves, "
        f"{_e(money(impact['proposed_projected_revenue_usd']))} if everyone switches at once "
        f"without a credit; transition credits {_e(money(impact['transition_credits_usd']))}; "
        f"{_e(money(impact.get('plan_choice_projected_revenue_usd')))} if the plan offers the "
        "proposal as an option and only the accounts that would take it follow it.</p>"
        + _running_pilot_paragraph(segment, price_model_id)
    )


def _running_pilot_paragraph(segment: str, price_model_id: str) -> str:
    """The plan's wave 0 and the accounts it holds for a pilot's readout, as the Migration plan
    page says them; nothing when there are neither."""
    settings = queries.settings_in_force()
    readout = settings.loc[settings["name"] == "readout_history_months", "value"]
    said = decision.running_pilot_plan_text(
        queries.migration_plan(segment, price_model_id),
        readout.iloc[0] if len(readout) else None,
    ).strip()
    return f"<p class='muted'>{_e(said)}</p>" if said else ""


def _after_the_switch_section() -> str:
    """Each pilot running: its rollback triggers, the readout against its control group, the
    prediction made at the switch beside what happened, and the months of MRR around the switch
    (the Pilot page's numbers)."""
    readout = queries.pilot_readout()
    if readout.empty:
        return ""
    triggers = queries.pilot_rollback_triggers()
    html_parts = ["<h2>After the switch: the pilots against their control groups</h2>"]
    for model, rows in readout.groupby("pilot_model_id", sort=True):
        first = rows.iloc[0]
        judged = triggers[triggers["pilot_model_id"] == model]
        evidence = pilot.crossed(judged)
        html_parts.append(
            f"<h3>{_e(first['name'])}</h3><p class='muted'>{count(first['pilot_accounts'])} "
            f"pilot accounts against {count(first['control_accounts'])} control accounts, "
            f"{count(first['months_observed'])} months observed since the switch. The effect "
            "is the difference in differences, (pilot after - pilot before) - (control after - "
            "control before), its interval from resampling the accounts; Shown says whether "
            "that interval excludes 0 (yes) or still holds it (not yet).</p>"
        )
        if evidence:
            html_parts.append(
                "<p class='warn'><b>Roll back</b>: " + _e("; ".join(evidence)) + ".</p>"
            )
        else:
            html_parts.append("<p>No rollback trigger crossed.</p>")
        html_parts.append(_table(pilot.readout_table(rows)))
        html_parts.append(_table(pilot.trigger_table(judged)))
        prediction = queries.pilot_prediction(str(model))
        if not prediction.empty:
            summary = pilot.prediction_summary(prediction, rows)
            html_parts.append(
                "<h4>Predicted at the switch, and what happened</h4>"
                + (f"<p>{_e(summary)}</p>" if summary else "")
                + _table(pilot.prediction_table(prediction))
            )
        monthly = queries.pilot_readout_monthly(str(model))
        mrr = monthly[monthly["metric"] == "mrr"]
        if not mrr.empty:
            html_parts.append(
                charts.pilot_months(mrr, pilot.metric_label("mrr")).to_html(
                    full_html=False,
                    include_plotlyjs=False,  # the evidence section inlined the library already
                    config={"displayModeBar": False, "responsive": True},
                )
            )
    return "".join(html_parts)


def _settings_section(settings: pd.DataFrame, thresholds: tuple) -> str:
    changed = dict(thresholds)
    frame = pd.DataFrame(
        {
            "Setting": settings["name"],
            "Value in force": [
                f"{changed[name]:g} (what-if)" if name in changed else _text(value)
                for name, value in zip(settings["name"], settings["value"], strict=True)
            ],
            "Default": settings["default_value"].map(_text),
            "What it decides": settings["description"].map(_text),
        }
    )
    return "<h2>Settings in force</h2>" + _table(frame)


def _quality_section() -> str:
    refresh_id = queries.latest_refresh_id()
    loads = queries.load_totals(refresh_id)
    expectations = queries.expectation_totals(refresh_id)
    by_rule = queries.quarantine_by_rule(None)
    totals = pd.DataFrame(
        {
            "Files loaded": [count(loads["files_loaded"])],
            "Files rejected": [count(loads["files_rejected"])],
            "Rows loaded": [count(loads["rows_loaded"])],
            "Rows quarantined": [count(loads["rows_quarantined"])],
            "Expectations run": [count(expectations["expectations_run"])],
            "Expectations failed": [count(expectations["expectations_failed"])],
        }
    )
    quarantine = (
        _table(
            pd.DataFrame(
                {
                    "Export": by_rule["export"],
                    "Rule": by_rule["rule"],
                    "Rows quarantined": by_rule["rows_quarantined"].map(count),
                    "Files": by_rule["files"].map(count),
                }
            )
        )
        if len(by_rule)
        else "<p>No row was ever quarantined.</p>"
    )
    return (
        f"<h2>Data quality (latest refresh {_e(refresh_id or MISSING)})</h2>"
        + _table(totals)
        + "<h3>Quarantined rows by rule, every refresh</h3>"
        + quarantine
    )


# ---- helpers ---------------------------------------------------------------------------------


def _table(frame: pd.DataFrame, *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless `raw` (the caller escaped them)."""
    header = "".join(f"<th>{_e(column)}</th>" for column in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            content = _text(value)
            cells.append(f"<td>{content if raw else _e(content)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, pd.Timestamp | datetime | date):
        # the marts' months are first days: a month reads as a month, a time as a time
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize() and stamp.day == 1:
            return f"{stamp:%b %Y}"
        return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"
    return str(value)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return value is not None
