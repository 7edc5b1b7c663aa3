"""The paper invoice: one account's real invoice of a recent month beside what the proposal would
have billed it, line by line, as one self-contained HTML file a customer can be sent before the
switch (docs block migration_plan). The numbers are the warehouse's own: the real lines from
fct_invoice_reconciliation, the new ones from fct_shadow_invoice_lines, the totals from
fct_shadow_invoice, the transition credit from fct_migration_plan. No script, font or image is
loaded from anywhere: the file opens offline from file://. Used by `seatshift paper-invoice` and
the Migration plan page's button.
"""

from __future__ import annotations

import pandas as pd

from dashboards.lib import pools, queries
from dashboards.lib.format import MISSING
from dashboards.lib.report import _e
from dashboards.lib.shaping import signed_percent

# The lines that make up actual_usd (fct_shadow_invoice): what any model stands in for. Discounts
# and credits are a concession outside any model; tax is not revenue. Both are shown, apart.
CHARGE_LINE_TYPES = ("subscription", "proration", "usage")

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;
padding:0 16px}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}
.muted{color:#666;font-size:13px}.sides{display:grid;grid-template-columns:1fr 1fr;gap:24px;
margin-top:16px}.side{border:1px solid #ddd;border-radius:6px;padding:12px 16px}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border-bottom:1px solid #eee;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#f6f6f6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:700;border-top:2px solid #444}
.note{background:#f4f8fb;border-left:4px solid #0072B2;padding:8px 12px;margin-top:16px;
font-size:14px}
"""


def file_name(account_id: str, price_model_id: str, month: pd.Timestamp) -> str:
    return f"seatshift_paper_invoice_{account_id}_{price_model_id}_{month:%Y-%m}.html"


def build_paper_invoice(
    account_id: str, price_model_id: str, month: pd.Timestamp | str | None = None
) -> tuple[str, str]:
    """The paper invoice's file name and HTML. `month` defaults to the latest month the account
    was really billed. Raises QueryFailed when the account, model or month has no invoice."""
    chosen = (
        pd.Timestamp(month).to_period("M").to_timestamp()
        if month is not None
        else queries.paper_invoice_month(account_id, price_model_id)
    )
    if chosen is None:
        raise queries.QueryFailed(
            "No paper invoice to write.",
            f"Account {account_id} has no billed month with a shadow invoice under "
            f"{price_model_id}.",
        )
    totals = queries.paper_invoice_totals(account_id, price_model_id, chosen)
    if totals.empty:
        raise queries.QueryFailed(
            "No paper invoice to write.",
            f"No shadow invoice of {account_id} under {price_model_id} in {chosen:%Y-%m}.",
        )
    total = totals.iloc[0]
    account = queries.paper_invoice_account(account_id)
    account_name = account["account_name"].iloc[0] if len(account) else account_id
    actual_lines = queries.paper_invoice_actual_lines(account_id, chosen)
    shadow_lines = queries.paper_invoice_shadow_lines(account_id, price_model_id, chosen)
    plan = queries.paper_invoice_plan(account_id, price_model_id)
    alerts = queries.paper_invoice_pool_alerts(account_id, price_model_id)
    model_name = str(total["name"])
    title = f"Your {chosen:%B %Y} invoice, today and under {model_name}"
    body = (
        f"<h1>{_e(title)}</h1>"
        f"<p class='muted'>{_e(account_name)} ({_e(account_id)}). An illustration, not a bill: "
        "the same month's usage and seats, priced both ways.</p>"
        "<div class='sides'>"
        + _actual_side(actual_lines, total)
        + _shadow_side(shadow_lines, total, model_name)
        + "</div>"
        + _difference(total)
        + _pool_alerts(shadow_lines, alerts, chosen)
        + _transition(plan)
    )
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
    return file_name(account_id, price_model_id, chosen), html


def _amount(value: object, currency: str = "USD") -> str:
    if value is None or pd.isna(value):
        return MISSING
    return f"{float(value):,.2f} {currency}"


def _quantity(value: object) -> str:
    if value is None or pd.isna(value):
        return MISSING
    number = float(value)
    return f"{number:,.0f}" if number == int(number) else f"{number:,.3f}"


def _total_row(label: str, value: object, key: str) -> str:
    # data-total carries the exact figure, so a test (or a reader's script) need not parse text
    return (
        f"<tr class='total'><td colspan='3'>{_e(label)}</td>"
        f"<td class='num' data-total='{key}' data-value='{float(value):.4f}'>"
        f"{_e(_amount(value))}</td></tr>"
    )


def _actual_side(lines: pd.DataFrame, total: pd.Series) -> str:
    charges = lines[lines["line_type"].isin(CHARGE_LINE_TYPES)]
    others = lines[~lines["line_type"].isin(CHARGE_LINE_TYPES)]
    rows = [
        "<tr>"
        f"<td>{_e(row.description or row.line_type)}</td>"
        f"<td class='num'>{_e(_quantity(row.invoiced_quantity))}</td>"
        f"<td class='num'>{_e(_amount(row.invoiced_unit_amount, row.currency))}</td>"
        f"<td class='num' data-line='actual' data-value='{float(row.invoiced_amount):.4f}'>"
        f"{_e(_amount(row.invoiced_amount, row.currency))}</td>"
        "</tr>"
        for row in charges.itertuples(index=False)
    ]
    currencies = sorted(set(charges["currency"].dropna()))
    converted = (
        ""
        if currencies in ([], ["USD"])
        else f"<p class='muted'>Invoiced in {_e(', '.join(currencies))}; the total is in USD at "
        "each invoice's issue-date rate.</p>"
    )
    outside = "".join(
        f"<li>{_e(row.description or row.line_type)}: "
        f"{_e(_amount(row.invoiced_amount, row.currency))}</li>"
        for row in others.itertuples(index=False)
    )
    outside = (
        "<p class='muted'>Not compared (discounts, credits and tax apply under either model):</p>"
        f"<ul class='muted'>{outside}</ul>"
        if outside
        else ""
    )
    return (
        "<div class='side'><h2>Today (per seat)</h2><table><thead><tr><th>Line</th>"
        "<th class='num'>Quantity</th><th class='num'>Unit price</th><th class='num'>Amount</th>"
        "</tr></thead><tbody>"
        + "".join(rows)
        + _total_row("Charges", total["actual_usd"], "actual_usd")
        + "</tbody></table>"
        + converted
        + outside
        + "</div>"
    )


def _component_label(row) -> str:
    if row.component_id == "model_cap":
        return "Spend cap on the whole bill"
    label = str(row.component_id).replace("_", " ").capitalize()
    metric = str(row.metric).replace("_", " ")
    return label if metric in ("platform", label.lower()) else f"{label} ({metric})"


def _component_rate(row) -> str:
    if row.component_id == "model_cap":
        return "the bill stops at the cap"
    if row.charge_model != "standard" or row.unit_amount is None or pd.isna(row.unit_amount):
        return str(row.charge_model).replace("_", " ")
    size = float(row.unit_size) if row.unit_size is not None and not pd.isna(row.unit_size) else 1
    per = "" if size == 1 else f" per {size:,.0f}"
    return f"{float(row.unit_amount):,.4g} USD{per}"


def _shadow_side(lines: pd.DataFrame, total: pd.Series, model_name: str) -> str:
    rows = [
        "<tr>"
        f"<td>{_e(_component_label(row))}</td>"
        f"<td class='num'>{_e(_quantity(row.quantity))}</td>"
        f"<td class='num'>{_e(_component_rate(row))}</td>"
        f"<td class='num' data-line='shadow' data-value='{float(row.amount_usd):.4f}'>"
        f"{_e(_amount(row.amount_usd))}</td>"
        "</tr>"
        for row in lines.itertuples(index=False)
    ]
    return (
        f"<div class='side'><h2>Under {_e(model_name)}</h2><table><thead><tr><th>Line</th>"
        "<th class='num'>Quantity</th><th class='num'>Price</th><th class='num'>Amount</th>"
        "</tr></thead><tbody>"
        + "".join(rows)
        + _total_row("Charges", total["shadow_usd"], "shadow_usd")
        + "</tbody></table></div>"
    )


def _pool_alerts(lines: pd.DataFrame, alerts: pd.DataFrame, month: pd.Timestamp) -> str:
    """A prepaid pool's usage alerts: the month's highest, and when the account's usage reached
    each level over the whole history (docs block pool_alerts)."""
    pool = lines[lines["charge_model"] == "prepaid_pool"]
    if pool.empty:
        return ""
    parts = []
    for row in pool.itertuples(index=False):
        reached = getattr(row, "pool_alert_pct", None)
        now = (
            f"this month your usage reached {int(reached)}% of the units available"
            if reached is not None and not pd.isna(reached) and int(reached) > 0
            else "this month your usage stayed below the first alert (70%)"
        )
        history = pools.account_alert_text(alerts[alerts["component_id"] == row.component_id])
        parts.append(
            f"<li data-pool-alerts='{_e(row.component_id)}'>{_e(_component_label(row))}: "
            f"{_e(now)}; alerts over your history: {_e(history)}.</li>"
        )
    return (
        "<p class='note'>Prepaid pool alerts (sent at 70%, 90% and 100% of the month's available "
        f"units), {month:%B %Y}:</p><ul>" + "".join(parts) + "</ul>"
    )


def _difference(total: pd.Series) -> str:
    return (
        "<p class='note'>Difference for the month: "
        f"<strong data-total='delta_usd'>{_e(_amount(total['delta_usd']))}</strong> "
        f"({_e(signed_percent(total['delta_pct']))}).</p>"
    )


def _transition(plan: pd.DataFrame) -> str:
    if plan.empty:
        return ""
    row = plan.iloc[0]
    credit = float(row["transition_credit_usd"])
    when = f"{pd.Timestamp(row['switch_month']):%B %Y}"
    until = f"{pd.Timestamp(row['grandfathered_until_month']):%B %Y}"
    if bool(row.get("is_on_proposal", False)):
        return (
            f"<p class='note'>You moved to this price model in {_e(when)}, in its pilot "
            "(wave 0): the new invoice is the one you are paying.</p>"
        )
    if credit <= 0:
        return (
            f"<p class='note'>Planned switch: {_e(when)} (wave {int(row['wave'])}). No transition "
            "credit is needed: your new monthly bill stays within the cap on increases.</p>"
        )
    return (
        f"<p class='note'>Planned switch: {_e(when)} (wave {int(row['wave'])}). Until "
        f"{_e(until)} a transition credit of {_e(_amount(credit))} a month keeps your bill at "
        f"{_e(_amount(row['billed_at_switch_usd']))} a month (your average today: "
        f"{_e(_amount(row['current_monthly_usd']))}); from then on, "
        f"{_e(_amount(row['proposed_monthly_usd']))} a month at today's usage.</p>"
    )
