"""Numbers and times as people read them: $1.2M, 97.4%, 1,204, 2026-03-15 06:01 UTC."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pandas as pd

MISSING = "—"  # shown instead of None/NaN, so a blank never reads as zero

_MONEY_STEPS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def text(value: object) -> str:
    """A value as text, or the dash when missing (pandas 3 hands DuckDB's NULL over as NaN)."""
    return MISSING if _is_missing(value) else str(value)


def _is_missing(value: object) -> bool:
    """None, NaN, NaT and pd.NA all mean "no value" in what DuckDB hands to pandas."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes are never a single missing value
        return False


def count(value: float | None) -> str:
    return MISSING if _is_missing(value) else f"{round(value):,}"


def counted(value: float | None, singular: str, plural: str | None = None) -> str:
    """A count with its noun, singular for one: "1 mismatch", "3 mismatches", "1,204 seats"."""
    if _is_missing(value):
        return f"{MISSING} {plural or singular + 's'}"
    return f"{count(value)} {singular if round(value) == 1 else plural or singular + 's'}"


def number(value: float | None, decimals: int = 1) -> str:
    """A plain quantity with thousands separators: 1,204.5."""
    return MISSING if _is_missing(value) else f"{value:,.{decimals}f}"


def money(value: float | None, currency_symbol: str = "$") -> str:
    """Compact money: $950, $12.3K, $1.2M; exact cents only below a thousand dollars."""
    if _is_missing(value):
        return MISSING
    sign = "-" if value < 0 else ""
    magnitude = abs(float(value))
    for step, suffix in _MONEY_STEPS:
        # Largest unit first, compared after rounding, so 999,960 reads $1.0M and not $1,000.0K.
        if round(magnitude / step, 1) >= 1:
            return f"{sign}{currency_symbol}{magnitude / step:,.1f}{suffix}"
    if magnitude == int(magnitude):
        return f"{sign}{currency_symbol}{magnitude:,.0f}"
    return f"{sign}{currency_symbol}{magnitude:,.2f}"


def percent(fraction: float | None, decimals: int = 1) -> str:
    """Ratios are stored as fractions (1.05 = 105%), as the marts publish them."""
    return MISSING if _is_missing(fraction) else f"{float(fraction) * 100:.{decimals}f}%"


def percent_against(fraction: float | None, *limits: float | None, decimals: int = 1) -> str:
    """A rate printed beside its limits (a cap, the ends of a range): as `percent` writes it, with
    as many more decimals (up to four) as it takes to read on the same side of every limit as it
    is, so a rate just under a 5% limit reads 4.97%, never 5.0%. A missing limit is ignored."""
    if _is_missing(fraction):
        return MISSING
    value = float(fraction) * 100
    bounds = [float(limit) * 100 for limit in limits if not _is_missing(limit)]

    def side(shown: float, bound: float) -> int:
        return 0 if math.isclose(shown, bound, abs_tol=1e-9) else (1 if shown > bound else -1)

    for places in range(decimals, decimals + 5):
        if all(side(round(value, places), bound) == side(value, bound) for bound in bounds):
            break
    return f"{value:.{places}f}%"


def as_utc(moment: datetime | str | None) -> datetime | None:
    """The warehouse stores naive UTC; the status file holds ISO strings with an offset."""
    if not isinstance(moment, str) and _is_missing(moment):
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if hasattr(moment, "to_pydatetime"):
        moment = moment.to_pydatetime()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def timestamp(moment: datetime | str | None) -> str:
    moment = as_utc(moment)
    return MISSING if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def ago(moment: datetime | str | None, now: datetime) -> str:
    """ "3 hours ago" / "in 5 hours": the distance a reader cares about, in one unit."""
    moment = as_utc(moment)
    if moment is None:
        return MISSING
    seconds = (as_utc(now) - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            text = f"{amount} {unit}{'' if amount == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return "in under a minute" if future else "just now"


def pretty_json(text: str | None) -> str:
    """Indented JSON for reading a raw record; text that is not JSON is shown as delivered."""
    if text is None:
        return MISSING
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(text)


def by_unit(value: object, unit: str, decimals: int | None = None) -> str:
    """A value written as its glossary unit says: fraction 97.4%, usd $1.2M, count 1,204,
    points +2.1 pts, multiple 1.5x, per_seat 12.3; anything else as text."""
    if _is_missing(value):
        return MISSING
    if unit == "fraction":
        return percent(value, 1 if decimals is None else decimals)
    if unit == "usd":
        return money(value)
    if unit == "count":
        return count(value)
    if unit == "points":
        return f"{float(value) * 100:+.{1 if decimals is None else decimals}f} pts"
    if unit == "multiple":
        return f"{float(value):.{2 if decimals is None else decimals}f}x"
    if unit in ("per_seat", "per_100_accounts"):
        return number(value, 1 if decimals is None else decimals)
    return text(value)
