"""The seat ledger, its prorations and the cohorts, replayed a second time without the dbt models.

On a generated company the ledger, prorations and cohorts agree with an independent replay of
the contract's seat rule, event for event. Written from the export contract (seat_events,
subscriptions, plans) and the definitions (seat ledger, proration, cohort retention), not from
the SQL under dbt_project/: it reads the loaded raw exports (the loader's tables, one row per
delivery kept; snapshots in every version), applies the contract's own key rules to them (first
delivery of a seat event wins; the latest `updated_at` of a snapshot wins), and then, in plain
Python with Decimal money and exact fractions:

- replays every subscription's seat events in effective order (ties by recorded_at, then
  event_id), with a correction voiding the event it names, and gives each event its voided status
  and the billable seats after it (the balance never goes below zero: the loader quarantines the
  event that would take it there, so a negative balance here is a difference too);
- prorates every non-voided seat change strictly inside a billing period of its subscription
  (periods from the anchor, clamped to shorter months, while the subscription runs), at the plan's
  price for the period, under the rule in force (marts.rpt_settings.proration_rule), rounded half
  up to cents;
- builds cohort retention from fct_account_month's MRR per account-month (MRR itself is checked by
  _independent.py and the billing tests): cohort = month of the first MRR > 0.

Run it by hand on any published warehouse:
    .venv/bin/python -m tests.warehouse._replay PATH/TO/warehouse.duckdb
"""

from __future__ import annotations

import calendar
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

# The seat_events export: adds and reactivations count up, removals and suspensions down;
# reassignments and corrections move no seats themselves.
SIGNS = {"seat_added": 1, "seat_reactivated": 1, "seat_removed": -1, "seat_suspended": -1}
INTERVAL_MONTHS = {"month": 1, "year": 12}
CENT = Decimal("0.01")
# nrr and logo_retention are doubles in the mart; the replay's are exact fractions.
TOLERANCE = 1e-9
# The raw tables whose load times bound the data's as-of time (the plausible-time rule).
RAW_TABLES = (
    "crm.accounts",
    "billing.plans",
    "billing.subscriptions",
    "entitlements.seat_events",
    "telemetry.usage_events",
    "billing.invoices",
    "helpdesk.support_tickets",
    "treasury.fx_rates",
)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def months_apart(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def anchored(anchor: datetime, months: int) -> datetime:
    """The export contract: the anchor moved by whole months, the day clamped to shorter months."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def round_half_up_to_cents(value: Fraction) -> Decimal:
    """Rounded half-up to cents per line (a credit away from zero, as a charge),
    decided on the exact fraction so a half-cent is never a float's guess."""
    cents = abs(value) * 100
    whole, rest = divmod(cents.numerator, cents.denominator)
    if 2 * rest >= cents.denominator:
        whole += 1
    rounded = Decimal(whole) * CENT
    return rounded if value >= 0 else -rounded


@dataclass
class SeatEvent:
    event_id: str
    account_id: str
    subscription_id: str
    event_type: str
    quantity: int
    effective_at: datetime
    recorded_at: datetime
    corrects_event_id: str | None


@dataclass
class Subscription:
    subscription_id: str
    account_id: str
    plan_id: str
    started_at: datetime
    canceled_at: datetime | None


class RawExports:
    """The loaded exports one warehouse holds, read once, with the contract's key rules applied."""

    def __init__(self, warehouse: Path) -> None:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            # seat_events has no updated_at: the first delivery of an event_id wins.
            self.events: dict[str, SeatEvent] = {}
            for row in _rows(
                conn,
                """
                select event_id, account_id, subscription_id, event_type, quantity,
                    effective_at, recorded_at, nullif(corrects_event_id, '')
                from entitlements.seat_events
                order by _loaded_at, _file_name, _row_number
                """,
            ):
                self.events.setdefault(row[0], SeatEvent(*row))
            # Snapshots: the latest updated_at wins (later loads, files and rows break ties).
            self.subscriptions: dict[str, Subscription] = {}
            for row in _rows(
                conn,
                """
                select subscription_id, account_id, plan_id, started_at, canceled_at
                from billing.subscriptions
                order by updated_at, _loaded_at, _file_name, _row_number
                """,
            ):
                self.subscriptions[row[0]] = Subscription(*row)
            self.account_currency: dict[str, str] = {}
            for account_id, currency in _rows(
                conn,
                """
                select account_id, currency from crm.accounts
                order by updated_at, _loaded_at, _file_name, _row_number
                """,
            ):
                self.account_currency[account_id] = currency
            # The price book: one row per plan and effective_from (first delivery).
            self.prices: dict[str, dict[date, tuple[str, str, Decimal]]] = defaultdict(dict)
            for plan_id, effective_from, currency, interval, seat_amount in _rows(
                conn,
                """
                select plan_id, effective_from, currency, billing_interval, seat_unit_amount
                from billing.plans
                order by _loaded_at, _file_name, _row_number
                """,
            ):
                self.prices[plan_id].setdefault(effective_from, (currency, interval, seat_amount))
            self.as_of = self._as_of(conn)
            settings = dict(_rows(conn, "select name, value from marts.rpt_settings"))
            self.proration_rule = settings.get("proration_rule") or "second"

    @staticmethod
    def _as_of(conn: duckdb.DuckDBPyConnection) -> datetime:
        """The as-of time: the latest occurred_at, effective_at or issued_at loaded, never later
        than
        the last load (one wrong clock must never move the as-of time ahead)."""
        (business_at,) = _rows(
            conn,
            """
            select max(moment) from (
                select max(occurred_at) as moment from telemetry.usage_events
                union all select max(effective_at) from entitlements.seat_events
                union all select max(issued_at) from (
                    select arg_max(issued_at, updated_at) as issued_at
                    from billing.invoices group by invoice_id
                )
            )
            """,
        )[0]
        loads = " union all ".join(f"select max(_loaded_at) from {table}" for table in RAW_TABLES)
        (last_loaded_at,) = _rows(conn, f"select max(m) from ({loads}) as loads(m)")[0]
        if last_loaded_at is not None and business_at > last_loaded_at:
            return last_loaded_at
        return business_at

    def interval_months(self, plan_id: str) -> int:
        return INTERVAL_MONTHS[next(iter(self.prices[plan_id].values()))[1]]

    def price(self, plan_id: str, period_start: datetime) -> tuple[str, Decimal]:
        """Plans: a price applies to periods starting on or after its effective_from."""
        effective_from = max(day for day in self.prices[plan_id] if day <= period_start.date())
        currency, _, seat_amount = self.prices[plan_id][effective_from]
        return currency, seat_amount


# ---- the seat ledger ---------------------------------------------------------------------------


def replay_ledger(raw: RawExports) -> tuple[dict[str, dict], list[tuple]]:
    """Every seat event's place, voided status and billable seats after it; and every event whose
    application the replay finds below zero (the loader must have quarantined those)."""
    voided_by: dict[str, str] = {}
    corrections = sorted(
        (event for event in raw.events.values() if event.event_type == "correction"),
        key=lambda event: (event.recorded_at, event.event_id),
    )
    for correction in corrections:
        # The contract says a correction voids the event it names; should two name the same event,
        # the first recorded one is taken as the voiding event (the contract does not say).
        voided_by.setdefault(correction.corrects_event_id, correction.event_id)

    by_subscription: dict[str, list[SeatEvent]] = defaultdict(list)
    for event in raw.events.values():
        by_subscription[event.subscription_id].append(event)
    ledger: dict[str, dict] = {}
    below_zero: list[tuple] = []
    for subscription_id, events in by_subscription.items():
        events.sort(key=lambda event: (event.effective_at, event.recorded_at, event.event_id))
        canceled_at = raw.subscriptions[subscription_id].canceled_at
        balance = 0
        for sequence, event in enumerate(events, start=1):
            is_voided = event.event_id in voided_by
            # A void reaches back: the voided event counts for nothing at any time (the contract:
            # billable seats at t sum the *non-voided* events effective at or before t).
            delta = 0 if is_voided else SIGNS.get(event.event_type, 0) * event.quantity
            balance += delta
            if balance < 0:
                below_zero.append((subscription_id, event.event_id, balance))
            ledger[event.event_id] = {
                "subscription_id": subscription_id,
                "ledger_sequence": sequence,
                "seats_delta": delta,
                "is_voided": is_voided,
                "voided_by_event_id": voided_by.get(event.event_id),
                "billable_seats_after": balance,
                # subscriptions.canceled_at: access and billing end there
                "is_after_cancellation": canceled_at is not None
                and event.effective_at >= canceled_at,
            }
    return ledger, below_zero


# ---- prorations -------------------------------------------------------------------------------


def _period_of(raw: RawExports, subscription: Subscription, moment: datetime):
    """The billing period (index, start, end) `moment` falls in, start included, if it exists:
    it starts at or before the as-of time and before the subscription's cancellation."""
    interval = raw.interval_months(subscription.plan_id)
    if moment < subscription.started_at:
        return None
    index = months_apart(month_of(subscription.started_at), month_of(moment)) // interval + 1
    while anchored(subscription.started_at, index * interval) > moment:
        index -= 1
    start = anchored(subscription.started_at, index * interval)
    end = anchored(subscription.started_at, (index + 1) * interval)
    if start > raw.as_of or (
        subscription.canceled_at is not None and start >= subscription.canceled_at
    ):
        return None
    return index, start, end


def _units(rule: str, start: datetime, end: datetime, effective_at: datetime) -> tuple[int, int]:
    if rule == "day":
        # whole UTC days from the change's date to the period end's, counting the change's day
        return (end.date() - effective_at.date()).days, (end.date() - start.date()).days
    remaining, period = end - effective_at, end - start
    return (
        remaining.days * 86_400 + remaining.seconds,
        period.days * 86_400 + period.seconds,
    )


def replay_prorations(raw: RawExports, ledger: dict[str, dict]) -> dict[str, dict]:
    """Proration (docs block proration): one line per non-voided seat change strictly inside a
    billing
    period of a running subscription; a change exactly at a period start is that period's regular
    charge, and one at or after canceled_at changes no bill (billing ends there)."""
    lines = {}
    for event_id, entry in ledger.items():
        delta = entry["seats_delta"]
        if delta == 0 or entry["is_after_cancellation"]:
            continue
        event = raw.events[event_id]
        subscription = raw.subscriptions[event.subscription_id]
        period = _period_of(raw, subscription, event.effective_at)
        if period is None or period[1] == event.effective_at:
            continue
        _, start, end = period
        currency, unit_amount = raw.price(subscription.plan_id, start)
        remaining, total = _units(raw.proration_rule, start, end, event.effective_at)
        lines[event_id] = {
            "subscription_id": event.subscription_id,
            "account_id": event.account_id,
            "period_start": start,
            "period_end": end,
            "effective_at": event.effective_at,
            "seats_delta": delta,
            "unit_amount": unit_amount,
            "amount": round_half_up_to_cents(
                Fraction(delta) * Fraction(unit_amount) * Fraction(remaining, total)
            ),
            # Invoices: the invoice currency is the account's
            "currency": raw.account_currency[event.account_id],
            "price_currency": currency,
        }
    return lines


# ---- cohort retention ---------------------------------------------------------------------------


def replay_cohorts(
    account_months: list[tuple[str, date, date | None, Decimal | None]], as_of_month: date
) -> tuple[dict[tuple[date, int], dict], dict[str, date]]:
    """Cohort retention (docs block cohort_nrr) over (account, month, published cohort_month,
    mrr_usd): a
    cohort is the month of an account's first MRR > 0; for k = 0 .. the as-of month, NRR_k = the
    cohort's MRR at cohort + k / at the cohort month, logo retention = accounts with MRR > 0 /
    cohort size."""
    mrr = {(account, month): value or Decimal(0) for account, month, _, value in account_months}
    cohort_of: dict[str, date] = {}
    for (account, month), value in sorted(mrr.items(), key=lambda item: item[0][1]):
        if value > 0:
            cohort_of.setdefault(account, month)
    members: dict[date, list[str]] = defaultdict(list)
    for account, cohort in cohort_of.items():
        members[cohort].append(account)
    cohorts = {}
    for cohort, accounts in members.items():
        start = sum((mrr.get((account, cohort), Decimal(0)) for account in accounts), Decimal(0))
        for k in range(months_apart(cohort, as_of_month) + 1):
            month = add_months(cohort, k)
            values = [mrr.get((account, month), Decimal(0)) for account in accounts]
            retained = sum(1 for value in values if value > 0)
            total = sum(values, Decimal(0))
            cohorts[(cohort, k)] = {
                "cohort_accounts": len(accounts),
                "retained_accounts": retained,
                "mrr_usd": total,
                "nrr": Fraction(total) / Fraction(start) if start else None,
                "logo_retention": Fraction(retained, len(accounts)),
            }
    return cohorts, cohort_of


# ---- comparison ---------------------------------------------------------------------------------

LEDGER_COLUMNS = (
    "subscription_id",
    "ledger_sequence",
    "seats_delta",
    "is_voided",
    "voided_by_event_id",
    "billable_seats_after",
    "is_after_cancellation",
)
PRORATION_COLUMNS = (
    "subscription_id",
    "account_id",
    "period_start",
    "period_end",
    "effective_at",
    "seats_delta",
    "unit_amount",
    "amount",
    "currency",
)
COHORT_COLUMNS = ("cohort_accounts", "retained_accounts", "mrr_usd", "nrr", "logo_retention")


def _differs(want, have) -> bool:
    if isinstance(want, Fraction):
        return have is None or abs(float(want) - have) > TOLERANCE
    return want != have


def _compare_rows(
    expected: dict, published: dict, columns: tuple[str, ...], keys: list, rows: list
) -> None:
    missing = sorted(set(expected) - set(published), key=str)
    extra = sorted(set(published) - set(expected), key=str)
    keys.extend([("missing from the mart", key) for key in missing])
    keys.extend([("not in the replay", key) for key in extra])
    for key, want in expected.items():
        have = published.get(key)
        if have is None:
            continue
        for column in columns:
            if _differs(want[column], have[column]):
                rows.append((key, column, have[column], want[column]))


def compare_ledger(warehouse: Path) -> dict[str, list]:
    """Every difference between the warehouse's fct_seat_ledger, fct_proration_lines and
    fct_cohort_retention and the replay, by kind; `checked` holds how many rows were compared
    (seat events, proration lines, cohort cells)."""
    raw = RawExports(warehouse)
    ledger, below_zero = replay_ledger(raw)
    prorations = replay_prorations(raw, ledger)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        mart_ledger = {
            row[0]: dict(zip(LEDGER_COLUMNS, row[1:], strict=True))
            for row in _rows(
                conn, f"select event_id, {', '.join(LEDGER_COLUMNS)} from marts.fct_seat_ledger"
            )
        }
        mart_prorations = {
            row[0]: dict(zip(PRORATION_COLUMNS, row[1:], strict=True))
            for row in _rows(
                conn,
                f"select event_id, {', '.join(PRORATION_COLUMNS)} from marts.fct_proration_lines",
            )
        }
        account_months = _rows(
            conn, "select account_id, month, cohort_month, mrr_usd from marts.fct_account_month"
        )
        mart_cohorts = {
            (row[0], row[1]): dict(zip(COHORT_COLUMNS, row[2:], strict=True))
            for row in _rows(
                conn,
                f"""select cohort_month, months_since_start, {", ".join(COHORT_COLUMNS)}
                from marts.fct_cohort_retention""",
            )
        }
    cohorts, cohort_of = replay_cohorts(account_months, month_of(raw.as_of))

    differences: dict[str, list] = {
        "ledger_keys": [],
        "ledger": [],
        "seats_below_zero": list(below_zero),
        "proration_keys": [],
        "prorations": [],
        "cohort_month": [],
        "cohort_keys": [],
        "cohorts": [],
    }
    _compare_rows(
        ledger, mart_ledger, LEDGER_COLUMNS, differences["ledger_keys"], differences["ledger"]
    )
    _compare_rows(
        prorations,
        mart_prorations,
        PRORATION_COLUMNS,
        differences["proration_keys"],
        differences["prorations"],
    )
    # A proration is charged in the invoice currency at the plan's price: the two must agree.
    differences["prorations"].extend(
        (event_id, "price_currency", line["price_currency"], line["currency"])
        for event_id, line in prorations.items()
        if line["price_currency"] != line["currency"]
    )
    for account, month, published, _ in account_months:
        if published != cohort_of.get(account):
            differences["cohort_month"].append(
                ((account, month), published, cohort_of.get(account))
            )
    _compare_rows(
        cohorts, mart_cohorts, COHORT_COLUMNS, differences["cohort_keys"], differences["cohorts"]
    )
    differences["checked"] = [len(ledger), len(prorations), len(cohorts)]
    return differences


if __name__ == "__main__":
    found = compare_ledger(Path(sys.argv[1]))
    events, lines, cells = found.pop("checked")
    print(f"seat events: {events:,}; proration lines: {lines:,}; cohort cells: {cells:,}")
    for kind, rows in found.items():
        print(f"{kind}: {len(rows)} differences", *rows[:10], sep="\n  ")
    sys.exit(1 if any(found.values()) else 0)
