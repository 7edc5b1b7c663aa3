"""Billing integrity, for the Finance controller at month end: accuracy against the 97% bar, the
mismatches with their evidence, and an invoice explainer that shows each line with the seat events
and seat counts behind it. The router has already drawn the as-of time and the sidebar filters."""

import pandas as pd
import streamlit as st

from dashboards.lib import charts, queries, shaping
from dashboards.lib.definitions import definition, segment_label, segment_labels
from dashboards.lib.format import count, counted, percent, text, timestamp
from dashboards.lib.kpis import Kpi, kpi_row
from dashboards.lib.layout import (
    MONTH_COLUMN,
    current_filters,
    dash_missing_text,
    data_table,
    download_csv,
    guarded,
    table_with_download,
)

# The seat events behind an invoice line, in the ledger's words.
SEAT_EVENT_COLUMNS = {
    "evidence_role": "Role",
    "event_id": "Seat event",
    "event_type": "Type",
    "quantity": st.column_config.NumberColumn("Seats", format="localized"),
    "seats_delta": st.column_config.NumberColumn("Seat change", format="localized"),
    "effective_at": st.column_config.DatetimeColumn("Effective", format="YYYY-MM-DD HH:mm"),
    "recorded_at": st.column_config.DatetimeColumn("Recorded", format="YYYY-MM-DD HH:mm"),
    "is_back_dated": "Back-dated",
    "is_voided": "Voided",
    "voided_by_event_id": "Voided by",
    "corrects_event_id": "Corrects",
    "billable_seats_before": st.column_config.NumberColumn("Seats before", format="localized"),
    "billable_seats_after": st.column_config.NumberColumn("Seats after", format="localized"),
    "user_id": "User",
    "source": "Source",
    "ledger_sequence": st.column_config.NumberColumn("Ledger order", format="plain"),
}

filters = current_filters()
scope = filters.scope

# ---- KPI row ---------------------------------------------------------------------------------
totals = guarded(queries.billing_accuracy_totals, filters.segments, filters.period)
subtotals = guarded(queries.billing_subtotal_mismatches)
bar = None if totals is None else totals["accuracy_bar"]
if totals is not None and totals["judged_lines"] is not None and totals["judged_lines"] > 0:
    kpi_row(
        totals,
        [
            Kpi("invoice_accuracy", "latest_line_match_rate", "{label}, {latest:%b %Y}"),
            Kpi("invoice_accuracy", "line_match_rate", "{label}, period"),
            Kpi("invoice_amount_accuracy", "amount_match_rate", "{label}, period"),
            Kpi("invoice_mismatches", "mismatched_lines"),
        ],
        latest=totals["latest_month"],
    )
    st.caption(
        f"{count(totals['judged_lines'])} invoice lines judged in {scope}; "
        f"the bar is {percent(bar, 0)} of lines."
    )
elif totals is not None:
    st.info("No invoice lines to judge in this period and segment selection.")

# ---- accuracy trend --------------------------------------------------------------------------
st.subheader("Accuracy by month", help=definition("invoice_accuracy"))
trend = guarded(queries.billing_accuracy_trend, filters.segments, filters.period)
if trend is not None and trend.empty:
    st.info("No months with invoice lines in this selection.")
elif trend is not None:
    st.plotly_chart(charts.accuracy_trend(trend), width="stretch")
    with st.expander("Accuracy table"):
        table_with_download(
            trend,
            "invoice_accuracy_monthly.csv",
            key="billing_accuracy_download",
            column_config={
                "month": MONTH_COLUMN,
                "line_match_rate": st.column_config.NumberColumn(
                    "Lines matching", format="percent"
                ),
                "amount_match_rate": st.column_config.NumberColumn(
                    "Amount matching", format="percent"
                ),
                "segment": "Segment",
                "judged_lines": st.column_config.NumberColumn("Lines judged", format="localized"),
                "matching_lines": st.column_config.NumberColumn("Matching", format="localized"),
                "mismatched_lines": st.column_config.NumberColumn("Mismatched", format="localized"),
                "missing_lines": st.column_config.NumberColumn("Missing", format="localized"),
                "judged_amount_usd": st.column_config.NumberColumn(
                    "Amount judged", format="dollar"
                ),
                "matching_amount_usd": st.column_config.NumberColumn(
                    "Amount matching (USD)", format="dollar"
                ),
                "accuracy_bar": st.column_config.NumberColumn("Bar", format="percent"),
                "meets_bar": st.column_config.CheckboxColumn("Meets the bar"),
            },
        )

SEARCHED_KEY = "billing_invoice_searched"


def open_invoice(account_id: str, invoice_id: str) -> None:
    """Point the explainer below at an invoice (its widgets are drawn later in this run)."""
    st.session_state["billing_account"] = account_id
    st.session_state["billing_invoice"] = invoice_id


# ---- mismatches ------------------------------------------------------------------------------
st.subheader("Mismatches", help=definition("mismatch_reason"))
mismatches = guarded(queries.billing_mismatches, filters.segments, filters.period)
if mismatches is not None and mismatches.empty:
    st.success("Every judged invoice line matches the rules in this selection.")
elif mismatches is not None:
    reasons = shaping.mismatch_reasons(mismatches)
    chosen_reasons = st.pills(
        "Reason",
        reasons,
        selection_mode="multi",
        default=reasons,
        key="billing_reasons",
        format_func=lambda reason: reason.replace("_", " "),
    )
    shown = shaping.mismatches_of(mismatches, chosen_reasons or [])
    by_reason = shaping.mismatch_counts(shown)
    st.caption(
        " · ".join(f"{reason.replace('_', ' ')}: {count(n)}" for reason, n in by_reason.items())
        or "No reason chosen."
    )
    st.caption("Click a mismatch (its first column) to open its invoice in the explainer below.")
    readable = dash_missing_text(
        shown.assign(
            mismatch_reason=shown["mismatch_reason"].str.replace("_", " "),
            segment=segment_labels(shown["segment"]),
        )
    )
    picked = data_table(
        readable,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="billing_mismatch_pick",
        column_config={
            "mismatch_reason": "Reason",
            "mismatch_detail": st.column_config.TextColumn("Evidence", width="large"),
            "invoice_month": MONTH_COLUMN,
            "invoice_id": "Invoice",
            "line_id": "Line",
            "source_event_id": "Seat event",
            "account_id": "Account",
            "segment": "Segment",
            "invoice_status": "Status",
            "period_start": st.column_config.DatetimeColumn("Period start", format="D MMM YYYY"),
            "line_type": "Line type",
            "currency": "Currency",
            "expected_amount": st.column_config.NumberColumn("Expected", format="%.2f"),
            "invoiced_amount": st.column_config.NumberColumn("Invoiced", format="%.2f"),
            "amount_difference": st.column_config.NumberColumn("Difference", format="%.2f"),
            "invoiced_quantity": st.column_config.NumberColumn("Invoiced qty", format="%d"),
            "expected_quantity": st.column_config.NumberColumn("Expected qty", format="%d"),
            "invoiced_unit_amount": st.column_config.NumberColumn("Invoiced unit", format="%.2f"),
            "expected_unit_amount": st.column_config.NumberColumn("Expected unit", format="%.2f"),
        },
    )
    download_csv(
        shown,
        "invoice_mismatches.csv",
        key="billing_mismatches_download",
        context={"reasons": list(chosen_reasons or [])},
    )
    picked_rows = [row for row in picked.selection.rows if row < len(shown)]
    if picked_rows:
        chosen_line = shown.iloc[picked_rows[0]]
        open_invoice(str(chosen_line["account_id"]), str(chosen_line["invoice_id"]))
if subtotals is not None and not subtotals.empty:
    st.warning(
        f"{counted(len(subtotals), 'invoice')} whose subtotal or total does not add up.",
        icon=":material/calculate:",
    )
    table_with_download(
        subtotals,
        "invoice_subtotal_checks.csv",
        key="billing_subtotals_download",
        column_config={
            "invoice_id": "Invoice",
            "account_id": "Account",
            "invoice_status": "Status",
            "issued_at": st.column_config.DatetimeColumn("Issued", format="YYYY-MM-DD"),
            "currency": "Currency",
            "subtotal": st.column_config.NumberColumn("Subtotal", format="%.2f"),
            "lines_amount": st.column_config.NumberColumn("Sum of lines", format="%.2f"),
            "tax": st.column_config.NumberColumn("Tax", format="%.2f"),
            "total": st.column_config.NumberColumn("Total", format="%.2f"),
            "is_subtotal_match": "Subtotal adds up",
            "is_total_match": "Total adds up",
        },
    )

# ---- invoice explainer -----------------------------------------------------------------------
# Names and widths of the explainer's line table; what decides a line comes first, so status,
# reason and amounts show at 1280 px.
LINE_COLUMNS = {
    "line_id": "Line",
    "line_kind": "Kind",
    "description": st.column_config.TextColumn("Description", width="medium"),
    "invoiced_quantity": st.column_config.NumberColumn("Invoiced qty"),
    "expected_quantity": st.column_config.NumberColumn("Expected qty"),
    "invoiced_amount": st.column_config.NumberColumn("Invoiced", format="%.2f"),
    "expected_amount": st.column_config.NumberColumn("Expected", format="%.2f"),
    "reconciliation_status": "Status",
    "mismatch_reason": "Reason",
    "source_event_id": "Seat event",
    "seats_before_source_event": "Seats before",
    "seats_after_source_event": "Seats after",
    "billable_seats_at_previous_period_start": "Seats at previous period start",
    "correction_trail": "Corrections",
    "mismatch_detail": st.column_config.TextColumn("Evidence", width="large"),
}
LINE_ORDER = [
    "line_id",
    "reconciliation_status",
    "mismatch_reason",
    "line_kind",
    "invoiced_amount",
    "expected_amount",
    "invoiced_quantity",
    "expected_quantity",
    "description",
    "source_event_id",
    "seats_before_source_event",
    "seats_after_source_event",
    "billable_seats_at_previous_period_start",
    "correction_trail",
    "mismatch_detail",
]


def pick_invoice() -> tuple[str, str, pd.Series] | None:
    """The search box and the account and invoice pickers; the account, the invoice id and the
    invoice's row (None when there is nothing to pick)."""
    searched = st.text_input(
        "Find an invoice by id", key="billing_invoice_search", placeholder="an invoice id"
    ).strip()
    if searched and searched != st.session_state.get(SEARCHED_KEY):
        st.session_state[SEARCHED_KEY] = searched
        found = guarded(queries.billing_invoice_account, searched)
        if found is None or found.empty:
            st.warning(f"No invoice {searched!r} in this warehouse.", icon=":material/search_off:")
        else:
            open_invoice(str(found["account_id"].iloc[0]), searched)
    accounts = guarded(queries.billing_accounts)
    if accounts is not None and accounts.empty:
        st.info("No invoices in this warehouse.")
    if accounts is None or accounts.empty:
        return None
    account_labels = shaping.account_labels(accounts)
    left, right = st.columns(2)
    account_id = left.selectbox(
        "Account",
        list(accounts["account_id"]),
        key="billing_account",
        format_func=account_labels.get,
    )
    invoices = guarded(queries.billing_invoices, account_id)
    if invoices is None or invoices.empty:
        return None
    labels = shaping.invoice_labels(invoices)
    options = list(labels)
    if st.session_state.get("billing_invoice") not in options:
        # a new account: open on its mismatched invoice, if it has one
        st.session_state.pop("billing_invoice", None)
        mismatched = invoices.loc[invoices["mismatched_lines"] > 0, "invoice_id"]
        if not mismatched.empty:
            st.session_state["billing_invoice"] = str(mismatched.iloc[0])
    invoice_id = right.selectbox("Invoice", options, key="billing_invoice", format_func=labels.get)
    return account_id, invoice_id, invoices.set_index("invoice_id").loc[invoice_id]


def describe_invoice(invoice: pd.Series) -> None:
    # Names and exact amounts do not fit a metric card at 1280 px: one line of text instead.
    st.markdown(
        f"**{text(invoice['account_name'])}** ({segment_label(text(invoice['segment']))}) · "
        f"subtotal **{invoice['currency']} {float(invoice['subtotal']):,.2f}** · "
        f"status **{invoice['invoice_status']}** · "
        f"**{counted(invoice['mismatched_lines'], 'mismatch', 'mismatches')}** on this invoice",
        help=definition("invoice_subtotal_checks"),
    )
    st.caption(
        f"Period {timestamp(invoice['period_start'])} to {timestamp(invoice['period_end'])}, "
        f"issued {timestamp(invoice['issued_at'])}. "
        + (
            "Subtotal equals the sum of the lines."
            if invoice["is_subtotal_match"]
            else f"Subtotal differs from the sum of the lines ({invoice['lines_amount']})."
        )
    )


def line_seat_events(line: pd.Series, account_id: str, invoice_id: str) -> None:
    """The seat events behind one invoice line, with their download."""
    st.markdown(f"**Seat events behind `{text(line['line_id'])}`**")
    seats_before = line["billable_seats_at_previous_period_start"]
    if line["line_kind"] == "seats" and seats_before:
        st.caption(
            f"{counted(seats_before, 'seat')} at the previous period start, then these changes "
            "up to this period's start."
        )
    events = guarded(queries.billing_line_events, line["reconciliation_id"])
    if events is not None and events.empty:
        st.info("No seat events stand behind this line (a fee or an adjustment).")
    elif events is not None:
        table_with_download(
            events,
            f"seat_events_{line['reconciliation_id'].replace('|', '_')}.csv",
            key="billing_events_download",
            column_config=SEAT_EVENT_COLUMNS,
            context={
                "account_id": account_id,
                "invoice_id": invoice_id,
                "reconciliation_id": line["reconciliation_id"],
            },
        )


# A fragment: picking an account, an invoice or a line reruns the explainer alone, not the
# accuracy chart and the mismatch tables above it, which an explainer pick does not change.
@st.fragment
def invoice_explainer() -> None:
    st.subheader("Invoice explainer")
    st.caption(
        "Find an invoice by its id, or pick an account and an invoice (an account's mismatched "
        "invoice comes first), then click a line to see the seat events behind it."
    )
    picked = pick_invoice()
    if picked is None:
        return
    account_id, invoice_id, invoice = picked
    describe_invoice(invoice)
    lines = guarded(queries.billing_invoice_lines, invoice_id)
    if lines is None:
        return
    # The mart's codes read as words (platform fee, void invoice, stale quantity).
    readable_lines = dash_missing_text(
        lines.assign(
            **{
                column: lines[column].str.replace("_", " ")
                for column in ("mismatch_reason", "line_kind", "reconciliation_status")
            }
        )
    )
    selection = data_table(
        readable_lines,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="billing_lines",
        column_config=LINE_COLUMNS,
        column_order=LINE_ORDER,
    )
    # A row picked on a longer invoice may point past the end of this one (an IndexError).
    rows = [row for row in selection.selection.rows if row < len(lines)]
    if not rows:
        st.caption("Click a line (its first column) to see its seat events.")
    else:
        line_seat_events(lines.iloc[rows[0]], account_id, invoice_id)


invoice_explainer()
