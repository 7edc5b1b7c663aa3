"""Billing-calendar arithmetic and the textual forms of values, shared by the whole generator.

Datetimes are naive and mean UTC throughout: the exports carry `Z`, and a naive value cannot be
shifted by a local time zone by accident.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def add_months(anchor: datetime, months: int) -> datetime:
    """The anchor moved by whole months, its day clamped to the last day of shorter months.

    Always clamp from the anchor's own day: an anchor on Jan 31 gives Feb 28/29, then Mar 31.
    """
    year, month_index = divmod(anchor.month - 1 + months, 12)
    year += anchor.year
    month = month_index + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_start(anchor: datetime, interval_months: int, index: int) -> datetime:
    return add_months(anchor, interval_months * index)


def month_start(start: str, offset: int = 0) -> datetime:
    """`YYYY-MM` plus `offset` months, as the first instant of that month."""
    year, month = (int(part) for part in start.split("-"))
    return add_months(datetime(year, month, 1), offset)


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def proration_amount(
    seats_delta: int,
    unit_amount: Decimal,
    effective_at: datetime,
    period_start_at: datetime,
    period_end_at: datetime,
) -> Decimal:
    """The default (second-based) proration, rounded half-up to cents per line."""
    remaining = int((period_end_at - effective_at).total_seconds())
    length = int((period_end_at - period_start_at).total_seconds())
    return round_cents(Decimal(seats_delta) * unit_amount * Decimal(remaining) / Decimal(length))


def ts(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def day(value: date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def money(value: Decimal | None) -> str | None:
    """Decimal text with two decimals: never a float, never an exponent."""
    return None if value is None else f"{round_cents(value):f}"
