"""The paper invoice: one account-month's real invoice beside its shadow invoice."""

from __future__ import annotations

import pandas as pd

from ._core import _read


def paper_invoice_month(account_id: str, price_model_id: str) -> pd.Timestamp | None:
    """The latest month the account was really billed and has a shadow invoice under the model."""
    frame = _read(
        "the paper invoice's month",
        """
        select max(month) as month from marts.fct_shadow_invoice
        where account_id = ? and price_model_id = ? and actual_usd > 0
        """,
        (account_id, price_model_id),
    )
    month = frame["month"].iloc[0] if len(frame) else None
    return None if month is None or pd.isna(month) else pd.Timestamp(month)


def paper_invoice_account(account_id: str) -> pd.DataFrame:
    return _read(
        "the account",
        "select account_id, account_name, segment, currency, country from marts.dim_accounts"
        " where account_id = ?",
        (account_id,),
    )


def paper_invoice_totals(account_id: str, price_model_id: str, month: pd.Timestamp) -> pd.DataFrame:
    """The account-month's shadow invoice beside the real one (fct_shadow_invoice)."""
    return _read(
        "the shadow invoice",
        """
        select shadow.account_id, shadow.month, shadow.price_model_id, models.name,
            shadow.actual_usd, shadow.actual_adjustments_usd, shadow.actual_subtotal_usd,
            shadow.shadow_usd, shadow.delta_usd, shadow.delta_pct
        from marts.fct_shadow_invoice as shadow
        inner join marts.dim_price_models as models
            on shadow.price_model_id = models.price_model_id
        where shadow.account_id = ? and shadow.price_model_id = ? and shadow.month = ?
        """,
        (account_id, price_model_id, month.date()),
    )


def paper_invoice_actual_lines(account_id: str, month: pd.Timestamp) -> pd.DataFrame:
    """The lines of the account's real invoices issued in the month (void and draft left out)."""
    return _read(
        "the real invoice's lines",
        """
        select invoice_id, issued_at, line_id, line_type, description, currency,
            invoiced_quantity, invoiced_unit_amount, invoiced_amount
        from marts.fct_invoice_reconciliation
        where account_id = ? and invoice_month = ?
            and coalesce(invoice_status, '') not in ('void', 'draft')
        order by issued_at, invoice_id, line_id
        """,
        (account_id, month.date()),
    )


def paper_invoice_shadow_lines(
    account_id: str, price_model_id: str, month: pd.Timestamp
) -> pd.DataFrame:
    """The shadow invoice's lines: one per component of the model (fct_shadow_invoice_lines)."""
    return _read(
        "the shadow invoice's lines",
        """
        select lines.component_id, lines.metric, lines.charge_model, lines.quantity, lines.units,
            components.unit_size, components.unit_amount, lines.amount_usd, lines.pool_alert_pct
        from marts.fct_shadow_invoice_lines as lines
        left join marts.dim_price_components as components
            on lines.price_model_id = components.price_model_id
                and lines.component_id = components.component_id
        where lines.account_id = ? and lines.price_model_id = ? and lines.month = ?
        order by lines.component_id
        """,
        (account_id, price_model_id, month.date()),
    )


def paper_invoice_plan(account_id: str, price_model_id: str) -> pd.DataFrame:
    """The account's row of the migration plan under the model (none for the current model)."""
    return _read(
        "the account's migration plan",
        "select * from marts.fct_migration_plan where account_id = ? and price_model_id = ?",
        (account_id, price_model_id),
    )


def paper_invoice_pool_alerts(account_id: str, price_model_id: str) -> pd.DataFrame:
    """When the account's usage would have reached each alert of the model's prepaid pool
    (fct_prepaid_pool_alerts); empty for a model without a pool."""
    return _read(
        "the account's pool alerts",
        """
        select component_id, alert_pct, first_month, latest_month, months_reached
        from marts.fct_prepaid_pool_alerts
        where account_id = ? and price_model_id = ?
        order by component_id, alert_pct desc
        """,
        (account_id, price_model_id),
    )
