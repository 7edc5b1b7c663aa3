"""Billing integrity: invoice accuracy, mismatches, and one invoice's evidence."""

from __future__ import annotations

import pandas as pd

from ._core import _period_clause, _read


def billing_accuracy_trend(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Accuracy per month for the chosen segments, or for `all` when none is chosen."""
    chosen = segments or ("all",)
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the invoice accuracy",
        f"""
        select month, segment, judged_lines, matching_lines, mismatched_lines, missing_lines,
            line_match_rate, amount_match_rate, judged_amount_usd, matching_amount_usd,
            accuracy_bar, meets_bar
        from marts.fct_invoice_accuracy_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (list(chosen), *period_params),
    )


def billing_accuracy_totals(segments: tuple[str, ...], period: tuple | None) -> pd.Series:
    """Accuracy over the whole period and in its latest month, for the chosen segments."""
    chosen = segments or ("all",)
    period_sql, period_params = _period_clause("month", period)
    frame = _read(
        "the invoice accuracy",
        f"""
        with chosen as (
            select month, sum(judged_lines) as judged_lines, sum(matching_lines) as matching_lines,
                sum(judged_amount_usd) as judged_amount_usd,
                sum(matching_amount_usd) as matching_amount_usd, max(accuracy_bar) as accuracy_bar
            from marts.fct_invoice_accuracy_monthly
            where list_contains(?, segment) and {period_sql}
            group by month
        )
        select
            max(month) as latest_month,
            max(accuracy_bar) as accuracy_bar,
            sum(judged_lines) as judged_lines,
            sum(judged_lines) - sum(matching_lines) as mismatched_lines,
            sum(matching_lines) / nullif(sum(judged_lines), 0) as line_match_rate,
            sum(matching_amount_usd) / nullif(sum(judged_amount_usd), 0) as amount_match_rate,
            arg_max(matching_lines / nullif(judged_lines, 0), month) as latest_line_match_rate
        from chosen
        """,
        (list(chosen), *period_params),
    )
    return frame.iloc[0]


def billing_mismatches(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Every judged row that does not match, with its evidence."""
    period_sql, period_params = _period_clause("invoice_month", period)
    return _read(
        "the invoice mismatches",
        f"""
        select mismatch_reason, mismatch_detail, invoice_id, line_id, source_event_id,
            account_id, segment, invoice_status, invoice_month, period_start, line_type,
            currency, expected_amount, invoiced_amount, amount_difference,
            invoiced_quantity, expected_quantity, invoiced_unit_amount, expected_unit_amount
        from marts.fct_invoice_reconciliation
        where is_match = false
            and (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        order by invoice_month desc, account_id, invoice_id, line_id
        """,
        (list(segments), list(segments), *period_params),
    )


def billing_subtotal_mismatches() -> pd.DataFrame:
    return _read(
        "the invoice subtotals",
        """
        select invoice_id, account_id, invoice_status, issued_at, currency, subtotal,
            lines_amount, tax, total, is_subtotal_match, is_total_match
        from marts.fct_invoice_checks
        where not is_subtotal_match or not is_total_match
        order by issued_at desc, invoice_id
        """,
    )


def billing_accounts() -> pd.DataFrame:
    """Accounts with invoices, the ones with mismatches first."""
    return _read(
        "the billed accounts",
        """
        select account_id, any_value(account_name) as account_name,
            sum(mismatched_lines) as mismatched_lines, count(*) as invoices
        from marts.fct_invoice_checks
        group by account_id
        order by sum(mismatched_lines) > 0 desc, account_id
        """,
    )


def billing_invoice_account(invoice_id: str) -> pd.DataFrame:
    """The account an invoice belongs to (none when the id is unknown)."""
    return _read(
        "the invoice",
        "select account_id from marts.fct_invoice_checks where invoice_id = ?",
        (invoice_id,),
    )


def billing_invoices(account_id: str) -> pd.DataFrame:
    return _read(
        "the account's invoices",
        """
        select invoice_id, invoice_status, period_start, period_end, issued_at, currency,
            subtotal, tax, total, lines_amount, line_count, is_subtotal_match, is_total_match,
            mismatched_lines, missing_prorations, account_name, segment
        from marts.fct_invoice_checks
        where account_id = ?
        order by issued_at desc, invoice_id desc
        """,
        (account_id,),
    )


def billing_invoice_lines(invoice_id: str) -> pd.DataFrame:
    """The invoice's lines and the expected lines it lacks, each with its evidence packet."""
    return _read(
        "the invoice's lines",
        """
        select reconciliation_id, line_id, line_kind, line_type, description, source_event_id,
            invoiced_quantity, expected_quantity, invoiced_unit_amount, expected_unit_amount,
            invoiced_amount, expected_amount, reconciliation_status, is_match, mismatch_reason,
            mismatch_detail, source_event_type, source_event_effective_at,
            seats_before_source_event, seats_after_source_event, source_event_is_voided,
            billable_seats_at_previous_period_start, seat_event_count, correction_trail,
            account_name, country, currency, plan_name, period_start, period_end,
            previous_period_start
        from marts.fct_invoice_line_evidence
        where invoice_id = ?
        order by line_id nulls last, reconciliation_id
        """,
        (invoice_id,),
    )


def billing_line_events(reconciliation_id: str) -> pd.DataFrame:
    """The seat events behind one line, in ledger order."""
    return _read(
        "the line's seat events",
        """
        select evidence_role, event_id, event_type, quantity, seats_delta, effective_at,
            recorded_at, is_back_dated, is_voided, voided_by_event_id, corrects_event_id,
            billable_seats_before, billable_seats_after, user_id, source, ledger_sequence
        from marts.fct_invoice_line_seat_events
        where reconciliation_id = ?
        order by ledger_sequence
        """,
        (reconciliation_id,),
    )
