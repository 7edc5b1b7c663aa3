"""The seats and migration-trigger signals, computed a second time without the dbt models.

Written from the metric definitions (docs blocks) and the export contract, not from the SQL under
dbt_project/: it reads only the
staging views (the exports as loaded: typed, one row per key, latest version of snapshots) and,
for the proposals' shadow totals, fct_shadow_invoice.shadow_usd (the rating engine has its own
hand-worked test in test_rating.py). Everything else (voids, cancellations, billable seats at month
ends, MRR with billing periods, prices and FX, NRR, utilization, automation, growth, bill shock
under each proposal, the trailing window, the verdicts and runs) is recomputed here, in Python with
exact fractions and a few plain DuckDB aggregations, so a shared mistake is unlikely.

Run it by hand on any published warehouse:
    .venv/bin/python -m tests.warehouse._independent PATH/TO/warehouse.duckdb
"""

from __future__ import annotations

import calendar
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

from orchestration.lib.generator.assigned_billing import (
    full_month_charge,
    month_quantities,
    price_components,
)

# The settings' defaults (the migration trigger's and the metric definitions').
AUTOMATION_SHARE_MIN = Fraction(30, 100)
AUTOMATION_CHANGE_MIN = Fraction(10, 100)
LOOKBACK_MONTHS = 6
WINDOW_MONTHS = 12
UTILIZATION_RED_FLAG = Fraction(70, 100)
NRR_MAX = Fraction(1)
SHOCK_RATE_MAX = Fraction(5, 100)
REVENUE_RANGE = (Fraction(-5, 100), Fraction(15, 100))
BILL_SHOCK_RATIO = Decimal("1.5")
BILL_SHOCK_MIN_USD = 100
# The marts keep money at 4 decimals per account-month (a non-USD amount converted is rounded
# there, kept exact here) and round ratios to 10 decimals: ratios agree to well within 1e-6.
TOLERANCE = 1e-6
SIGNS = {"seat_added": 1, "seat_reactivated": 1, "seat_removed": -1, "seat_suspended": -1}


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def month_of(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def anchored(anchor: datetime, months: int) -> datetime:
    """The export contract: the anchor moved by whole months, the day clamped to shorter months."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


@dataclass
class Subscription:
    subscription_id: str
    account_id: str
    plan_id: str
    started_at: datetime
    canceled_at: datetime | None


def _rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


class Company:
    """The loaded exports of one warehouse, read once."""

    def __init__(self, warehouse: Path) -> None:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            self.segment = dict(
                _rows(conn, "select account_id, segment from staging.stg_crm__accounts")
            )
            self.created = dict(
                _rows(conn, "select account_id, created_at from staging.stg_crm__accounts")
            )
            self.subscriptions = [
                Subscription(*row)
                for row in _rows(
                    conn,
                    "select subscription_id, account_id, plan_id, started_at, canceled_at "
                    "from staging.stg_billing__subscriptions",
                )
            ]
            self.plans = defaultdict(list)
            for plan_id, currency, interval, seat, fee, effective_from in _rows(
                conn,
                "select plan_id, currency, billing_interval, seat_unit_amount, "
                "platform_fee_amount, effective_from from staging.stg_billing__plans",
            ):
                self.plans[plan_id].append((effective_from, currency, interval, seat, fee or 0))
            events = _rows(
                conn,
                "select event_id, subscription_id, event_type, quantity, effective_at, "
                "corrects_event_id from staging.stg_entitlements__seat_events",
            )
            voided = {row[5] for row in events if row[2] == "correction"}
            self.seat_changes = defaultdict(list)  # subscription -> [(effective_at, delta)]
            for event_id, subscription_id, event_type, quantity, effective_at, _ in events:
                if event_id not in voided and event_type in SIGNS:
                    self.seat_changes[subscription_id].append(
                        (effective_at, SIGNS[event_type] * quantity)
                    )
            # Usage per account-month: tasks (default 1), agent tasks, tokens, active humans.
            self.usage = {
                (account, month): (tasks, agent_tasks, tokens, humans)
                for account, month, tasks, agent_tasks, tokens, humans in _rows(
                    conn,
                    """
                    select account_id, cast(date_trunc('month', occurred_at) as date),
                        sum(coalesce(tasks, 1)),
                        sum(case when actor_type = 'agent' then coalesce(tasks, 1) else 0 end),
                        sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)),
                        count(distinct case when actor_type = 'human' then user_id end)
                    from staging.stg_telemetry__usage_events
                    group by all
                    """,
                )
            }
            self.fx = defaultdict(list)
            for rate_date, currency, usd in _rows(
                conn, "select rate_date, currency, usd_per_unit from staging.stg_treasury__fx_rates"
            ):
                self.fx[currency].append((rate_date, usd))
            for rates in self.fx.values():
                rates.sort()
            # Actual (pricing docs): subscription, proration and usage lines of the invoices issued
            # in the month, void and draft ignored, before tax, at the issue date's rate.
            self.actual = defaultdict(Decimal)
            for account, issued_at, currency, amount in _rows(
                conn,
                """
                select invoices.account_id, invoices.issued_at, invoices.currency,
                    sum(lines.amount)
                from staging.stg_billing__invoices as invoices
                inner join staging.stg_billing__invoice_lines as lines
                    on invoices.invoice_id = lines.invoice_id
                where invoices.status not in ('void', 'draft')
                    and lines.line_type in ('subscription', 'proration', 'usage')
                group by all
                """,
            ):
                rate = self.rate(currency, issued_at.date())
                self.actual[(account, month_of(issued_at))] += amount * rate
            as_of = max(
                value
                for (value,) in _rows(
                    conn,
                    """
                    select max(occurred_at) from staging.stg_telemetry__usage_events
                    union all select max(effective_at) from staging.stg_entitlements__seat_events
                    union all select max(issued_at) from staging.stg_billing__invoices
                    """,
                )
                if value is not None
            )
            self.months = months_between(month_of(min(self.created.values())), month_of(as_of))
            # Assignments to a model other than the current one: account -> [(model, from, to)].
            self.assigned = defaultdict(list)
            for account, model, effective_from, effective_to in _rows(
                conn,
                """
                select account_id, price_model_id, effective_from, effective_to
                from staging.stg_billing__price_model_assignments
                where price_model_id <> 'current_per_seat'
                """,
            ):
                self.assigned[account].append((model, effective_from, effective_to))
            self.shadow = defaultdict(dict)  # model -> {(account, month): shadow_usd}
            for account, month, model, shadow in _rows(
                conn,
                """
                select account_id, month, price_model_id, shadow_usd from marts.fct_shadow_invoice
                where price_model_id <> 'current_per_seat'
                """,
            ):
                self.shadow[model][(account, month)] = shadow

    def rate(self, currency: str, day: date) -> Decimal:
        if currency == "USD":
            return Decimal(1)
        return [usd for rate_date, usd in self.fx[currency] if rate_date <= day][-1]

    def account_months(self) -> list[tuple[str, date]]:
        """Account months run from each account's first month to the as-of month."""
        return [
            (account, month)
            for account, created in self.created.items()
            for month in self.months
            if month >= month_of(created)
        ]

    def subscription_seats(self, subscription: Subscription, month: date) -> int:
        """Billable seats at the month's end: events effective before the next month's first
        instant; 0 once the subscription is canceled (billing and access end at canceled_at)."""
        boundary = datetime.combine(add_months(month, 1), datetime.min.time())
        if subscription.canceled_at is not None and subscription.canceled_at < boundary:
            return 0
        return sum(
            delta
            for moment, delta in self.seat_changes[subscription.subscription_id]
            if moment < boundary
        )

    def mrr(self, subscription: Subscription, month: date) -> Decimal:
        """MRR at the month's end in USD: seats x the seat price of the period in effect (+ fee),
        annual / 12, at the month-end rate; 0 unless active (started, not canceled) then."""
        boundary = datetime.combine(add_months(month, 1), datetime.min.time())
        if subscription.started_at >= boundary or (
            subscription.canceled_at is not None and subscription.canceled_at < boundary
        ):
            return Decimal(0)
        interval = 12 if self.plans[subscription.plan_id][0][2] == "year" else 1
        elapsed = (month.year - subscription.started_at.year) * 12 + (
            month.month - subscription.started_at.month
        )
        period_start = anchored(subscription.started_at, elapsed // interval * interval)
        _, currency, _, seat_price, fee = max(
            (row for row in self.plans[subscription.plan_id] if row[0] <= period_start.date()),
            key=lambda row: row[0],
        )
        recurring = self.subscription_seats(subscription, month) * seat_price + fee
        last_day = add_months(month, 1) - timedelta(days=1)
        return recurring / interval * self.rate(currency, last_day)


def model_at_month_end(company: Company, account: str, month: date) -> str | None:
    """The assigned model other than the current one in force at the month's end, if any."""
    boundary = datetime.combine(add_months(month, 1), datetime.min.time())
    for model, effective_from, effective_to in company.assigned.get(account, []):
        if effective_from < boundary and (effective_to is None or effective_to >= boundary):
            return model
    return None


def assigned_model_mrr(model: str, seats: int, tokens: int) -> Decimal:
    """A whole month's charges under the assigned model, each line rounded to cents, as the
    billing system invoices them (the price book read by the generator, not the warehouse)."""
    quantities = month_quantities(seats, tokens)
    return sum(
        (full_month_charge(component, quantities) for component in price_components(model)),
        Decimal(0),
    )


def independent_account_months(company: Company) -> dict[tuple[str, date], dict]:
    """Per account-month: billable seats, MRR (USD), tasks, agent tasks, tokens, utilization."""
    by_account = defaultdict(list)
    for subscription in company.subscriptions:
        by_account[subscription.account_id].append(subscription)
    result = {}
    for account, month in company.account_months():
        subscriptions = by_account[account]
        seats = sum(company.subscription_seats(s, month) for s in subscriptions)
        tasks, agent_tasks, tokens, humans = company.usage.get((account, month), (0, 0, 0, 0))
        mrr = sum((company.mrr(s, month) for s in subscriptions), Decimal(0))
        model = model_at_month_end(company, account, month)
        boundary = datetime.combine(add_months(month, 1), datetime.min.time())
        active = any(
            s.started_at < boundary and (s.canceled_at is None or s.canceled_at >= boundary)
            for s in subscriptions
        )
        if model is not None:  # billed under its assigned model: what that model charges
            mrr = assigned_model_mrr(model, seats, tokens) if active else Decimal(0)
        result[(account, month)] = {
            "segment": company.segment[account],
            "billable_seats": seats,
            "mrr": mrr,
            "tasks": tasks,
            "agent_tasks": agent_tasks,
            "tokens": tokens,
            "utilization": Fraction(humans, seats) if seats else None,
        }
    return result


def _ratio(numerator, denominator) -> Fraction | None:
    if not denominator:
        return None
    return Fraction(numerator) / Fraction(denominator)


def _shocked(totals: list[tuple[date, Decimal]]) -> dict[date, tuple[bool, bool]]:
    """Bill shock (docs block bill_shock) over one account's monthly totals: {month: (billed,
    shocked)}."""
    flags, billed = {}, []
    for month, total in sorted(totals):
        is_billed = total > 0
        shocked = False
        if is_billed and len(billed) >= 3:
            prior = sum(billed[-3:])
            shocked = 3 * total > BILL_SHOCK_RATIO * prior and 3 * total - prior >= 3 * 100
        flags[month] = (is_billed, shocked)
        if is_billed:
            billed.append(total)
    return flags


def independent_triggers(company: Company) -> dict[tuple[str, date, str], dict]:
    """The trigger's signals (docs block migration_trigger), per segment (and `all`), month,
    proposal."""
    account_months = independent_account_months(company)
    segments = [*sorted({row["segment"] for row in account_months.values()}), "all"]

    def members(segment: str) -> list[tuple[tuple[str, date], dict]]:
        return [
            (key, row)
            for key, row in account_months.items()
            if segment == "all" or row["segment"] == segment
        ]

    pooled = {}
    for segment in segments:
        for month in company.months:
            rows = [row for (_, m), row in members(segment) if m == month]
            utilizations = [row["utilization"] for row in rows if row["billable_seats"] > 0]
            pooled[(segment, month)] = {
                "seats": sum(row["billable_seats"] for row in rows),
                "tasks": sum(row["tasks"] for row in rows),
                "agent_tasks": sum(row["agent_tasks"] for row in rows),
                "tokens": sum(row["tokens"] for row in rows),
                "median": statistics.median(utilizations) if utilizations else None,
            }
    mrr = {key: row["mrr"] for key, row in account_months.items()}

    def nrr(segment: str, month: date) -> Fraction | None:
        base_month = add_months(month, -12)
        base = [
            account
            for (account, m), row in members(segment)
            if m == base_month and mrr[(account, m)] > 0
        ]
        then = sum(mrr[(account, base_month)] for account in base)
        now = sum(mrr.get((account, month), Decimal(0)) for account in base)
        return _ratio(now, then)

    # Per proposal, segment and month: account-months billed and shocked, and shadow totals.
    monthly = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    for model, shadows in company.shadow.items():
        per_account = defaultdict(list)
        for (account, month), total in shadows.items():
            per_account[account].append((month, total))
        for account, totals in per_account.items():
            for month, (is_billed, is_shocked) in _shocked(totals).items():
                for segment in (company.segment[account], "all"):
                    cell = monthly[(model, segment, month)]
                    cell[0] += is_billed
                    cell[1] += is_shocked
                    cell[2] += shadows[(account, month)]
    # The revenue change's basis: the MRR of the account-months each proposal rated.
    actual = defaultdict(Decimal)
    for model, shadows in company.shadow.items():
        for account, month in shadows:
            for segment in (company.segment[account], "all"):
                actual[(model, segment, month)] += mrr.get((account, month), Decimal(0))

    result = {}
    for segment in segments:
        for index, month in enumerate(company.months):
            now = pooled[(segment, month)]
            share = _ratio(now["agent_tasks"], now["tasks"])
            change = seat_growth = usage_growth = token_growth = None
            if index >= LOOKBACK_MONTHS:
                then = pooled[(segment, company.months[index - LOOKBACK_MONTHS])]
                then_share = _ratio(then["agent_tasks"], then["tasks"])
                if share is not None and then_share is not None:
                    change = share - then_share
                seat_growth = _growth(now["seats"], then["seats"])
                usage_growth = _growth(now["tasks"], then["tasks"])
                token_growth = _growth(now["tokens"], then["tokens"])
            segment_nrr = nrr(segment, month)
            median = now["median"]
            leaving = (
                share is not None
                and share >= AUTOMATION_SHARE_MIN
                and change is not None
                and change >= AUTOMATION_CHANGE_MIN
                and (
                    (
                        seat_growth is not None
                        and seat_growth <= 0
                        and ((usage_growth or 0) > 0 or (token_growth or 0) > 0)
                    )
                    or (segment_nrr is not None and segment_nrr < NRR_MAX)
                    or (median is not None and median < UTILIZATION_RED_FLAG)
                )
            )
            window = company.months[max(0, index - WINDOW_MONTHS + 1) : index + 1]
            for model in company.shadow:
                cells = [monthly[(model, segment, m)] for m in window]
                billed = sum(cell[0] for cell in cells)
                shocked = sum(cell[1] for cell in cells)
                shadow_total = sum((cell[2] for cell in cells), Decimal(0))
                actual_total = sum((actual[(model, segment, m)] for m in window), Decimal(0))
                rate = _ratio(shocked, billed)
                delta = _growth(shadow_total, actual_total)
                viable = (
                    rate is not None
                    and rate < SHOCK_RATE_MAX
                    and delta is not None
                    and REVENUE_RANGE[0] <= delta <= REVENUE_RANGE[1]
                )
                result[(segment, month, model)] = {
                    "automation_share": share,
                    "automation_change_6m": change,
                    "seat_growth_6m": seat_growth,
                    "usage_growth_6m": usage_growth,
                    "token_growth_6m": token_growth,
                    "nrr": segment_nrr,
                    "median_seat_utilization": median,
                    "is_value_leaving": leaving,
                    "shadow_bill_shock_rate": rate,
                    "revenue_delta_pct": delta,
                    "is_triggered": leaving and viable,
                }
    # Runs of triggered months per segment and proposal, and the segment's status.
    for segment in segments:
        for model in company.shadow:
            since = None
            for month in company.months:
                row = result[(segment, month, model)]
                since = (since or month) if row["is_triggered"] else None
                row["triggered_since"] = since
        for month in company.months:
            rows = [result[(segment, month, model)] for model in company.shadow]
            if any(row["is_triggered"] for row in rows):
                status = "crossed"
            elif rows and (
                rows[0]["is_value_leaving"]
                or (
                    rows[0]["automation_share"] is not None
                    and rows[0]["automation_share"] >= AUTOMATION_SHARE_MIN
                )
            ):
                status = "watch"
            else:
                status = "healthy"
            for row in rows:
                row["segment_status"] = status
    return result


def _growth(now, then) -> Fraction | None:
    ratio = _ratio(now, then)
    return None if ratio is None else ratio - 1


SIGNAL_COLUMNS = (
    "automation_share",
    "automation_change_6m",
    "seat_growth_6m",
    "usage_growth_6m",
    "token_growth_6m",
    "nrr",
    "median_seat_utilization",
    "shadow_bill_shock_rate",
    "revenue_delta_pct",
)
FLAG_COLUMNS = ("is_value_leaving", "is_triggered", "triggered_since", "segment_status")


def compare(warehouse: Path) -> dict[str, list]:
    """Every difference between the warehouse and the independent computation, by kind."""
    company = Company(warehouse)
    seats = independent_account_months(company)
    triggers = independent_triggers(company)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        mart_seats = {
            (account, month): value
            for account, month, value in _rows(
                conn, "select account_id, month, billable_seats from marts.fct_account_month"
            )
        }
        columns = ("segment", "month", "price_model_id", *SIGNAL_COLUMNS, *FLAG_COLUMNS)
        mart_triggers = {
            row[:3]: dict(zip(columns[3:], row[3:], strict=True))
            for row in _rows(conn, f"select {', '.join(columns)} from marts.fct_migration_triggers")
        }
    differences: dict[str, list] = {"seats": [], "trigger_keys": [], "signals": [], "flags": []}
    if set(mart_seats) != set(seats):
        differences["seats"].append(("account-months differ", len(mart_seats), len(seats)))
    for key, row in seats.items():
        if mart_seats.get(key) != row["billable_seats"]:
            differences["seats"].append((key, mart_seats.get(key), row["billable_seats"]))
    if set(mart_triggers) != set(triggers):
        differences["trigger_keys"].append(
            (sorted(set(mart_triggers) ^ set(triggers), key=str)[:5], len(mart_triggers))
        )
    for key, expected in triggers.items():
        got = mart_triggers.get(key)
        if got is None:
            continue
        for column in SIGNAL_COLUMNS:
            want, have = expected[column], got[column]
            if (want is None) != (have is None) or (
                want is not None and abs(float(want) - have) > TOLERANCE
            ):
                differences["signals"].append((key, column, have, want))
        for column in FLAG_COLUMNS:
            if expected[column] != got[column]:
                differences["flags"].append((key, column, got[column], expected[column]))
    differences["checked"] = [len(seats), len(triggers)]
    return differences


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]))
    checked_seats, checked_triggers = found.pop("checked")
    print(f"account-months checked: {checked_seats:,}; trigger rows checked: {checked_triggers:,}")
    for kind, rows in found.items():
        print(f"{kind}: {len(rows)} differences", *rows[:10], sep="\n  ")
    sys.exit(1 if any(found.values()) else 0)
