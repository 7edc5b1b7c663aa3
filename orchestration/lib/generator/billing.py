"""Invoices and invoice lines from the current per-seat rules.

The dbt models recompute these lines from the ledger and the price book and must agree to the
cent, so every line here follows the published rule exactly, except the ~1% billing errors that
are injected on purpose and listed in the manifest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from orchestration.lib.generator.calendar import money, period_start, proration_amount, round_cents
from orchestration.lib.generator.entities import TAX_RATES, PlanPrice, Subscription, price_in_effect
from orchestration.lib.generator.ledger import billable_seats

OPEN_WINDOW = timedelta(days=20)  # invoices issued this close to the data's end are still unpaid


@dataclass
class Line:
    line_type: str
    description: str
    quantity: int | None
    unit_amount: Decimal | None
    amount: Decimal
    period_start: datetime
    period_end: datetime
    source_event_id: str | None = None
    line_id: str = ""


@dataclass
class Invoice:
    invoice_id: str
    subscription: Subscription
    period_index: int
    period_start: datetime
    period_end: datetime
    lines: list[Line]
    status: str = "paid"
    # (status, updated_at) in delivery order; the last one is the invoice's current state
    versions: list[tuple[str, datetime]] = field(default_factory=list)
    subtotal: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    # A seat invoice is issued at its period's start (in advance); an invoice of a month of usage
    # under an assigned model at the first instant after the month (in arrears).
    issued: datetime | None = None

    @property
    def issued_at(self) -> datetime:
        return self.issued if self.issued is not None else self.period_start

    def finalize(self) -> None:
        for number, line in enumerate(self.lines, start=1):
            line.line_id = f"{self.invoice_id}_{number:02d}"
        self.subtotal = sum((line.amount for line in self.lines), Decimal(0))
        rate = TAX_RATES.get(self.subscription.account.country, Decimal(0))
        # No tax on a net credit: tax is never negative (the export contract: tax >= 0).
        self.tax = round_cents(self.subtotal * rate) if self.subtotal > 0 else Decimal("0.00")
        self.total = self.subtotal + self.tax


def expected_lines(
    subscription: Subscription, plans: list[PlanPrice], index: int
) -> tuple[list[Line], Decimal]:
    """The lines the rules give for period `index`, and the previous period's seat count x price."""
    anchor, interval = subscription.started_at, subscription.interval_months
    start = period_start(anchor, interval, index)
    end = period_start(anchor, interval, index + 1)
    price = price_in_effect(plans, subscription.plan_id, start)
    seats = billable_seats(subscription.events, start)
    lines = [
        Line(
            "subscription",
            f"{seats} seat(s), {price.plan_name}",
            seats,
            price.seat_unit_amount,
            seats * price.seat_unit_amount,
            start,
            end,
        )
    ]
    if price.platform_fee_amount is not None:
        lines.append(
            Line(
                "subscription",
                f"Platform fee, {price.plan_name}",
                1,
                price.platform_fee_amount,
                price.platform_fee_amount,
                start,
                end,
            )
        )
    if index > 0:
        previous = period_start(anchor, interval, index - 1)
        previous_price = price_in_effect(plans, subscription.plan_id, previous)
        changes = sorted(
            (
                event
                for event in subscription.events
                if not event.voided and event.seats_delta and previous < event.effective_at < start
            ),
            key=lambda event: (event.effective_at, event.event_id),
        )
        for event in changes:
            verb = "added" if event.seats_delta > 0 else "removed"
            lines.append(
                Line(
                    "proration",
                    f"{abs(event.seats_delta)} seat(s) {verb} ({event.event_type}) mid-period",
                    event.seats_delta,
                    previous_price.seat_unit_amount,
                    proration_amount(
                        event.seats_delta,
                        previous_price.seat_unit_amount,
                        event.effective_at,
                        previous,
                        start,
                    ),
                    event.effective_at,
                    start,
                    source_event_id=event.event_id,
                )
            )
    return lines, seats * price.seat_unit_amount


def build_invoices(
    subscriptions: list[Subscription],
    plans: list[PlanPrice],
    end: datetime,
    seed: int,
    seat_billing_ends: dict[str, datetime] | None = None,
) -> tuple[list[Invoice], list[dict]]:
    """Every invoice with its versions, and the list of injected billing errors.

    `seat_billing_ends`: per subscription id, the instant its seats stop being invoiced (a switch
    to another price model): its periods starting at or after it get no seat invoice. Those
    invoices are drawn as before and dropped at the end, with any error injected into them, so the
    other subscriptions' invoices stay exactly those of a company without the switch.
    """
    rng = random.Random(f"{seed}:invoices")
    invoices: list[Invoice] = []
    last_update = end - timedelta(seconds=1)
    drafts = set(rng.sample(range(len(subscriptions)), max(2, len(subscriptions) // 20)))
    for position, subscription in enumerate(subscriptions):
        starts = subscription.period_starts(end)
        for index, start in enumerate(starts):
            lines, _ = expected_lines(subscription, plans, index)
            seat_amount = lines[0].amount
            if rng.random() < 0.03 and seat_amount > 0:
                lines.append(
                    Line(
                        "discount",
                        "Loyalty discount 10%",
                        1,
                        None,
                        -round_cents(seat_amount / 10),
                        lines[0].period_start,
                        lines[0].period_end,
                    )
                )
            if rng.random() < 0.015 and seat_amount >= 100:
                credit = Decimal("-25.00")
                lines.append(
                    Line(
                        "credit",
                        "Service credit for an outage",
                        1,
                        credit,
                        credit,
                        lines[0].period_start,
                        lines[0].period_end,
                    )
                )
            invoice = Invoice(
                invoice_id=f"inv_{subscription.account.index + 1:05d}_{index + 1:03d}",
                subscription=subscription,
                period_index=index,
                period_start=start,
                period_end=period_start(
                    subscription.started_at, subscription.interval_months, index + 1
                ),
                lines=lines,
            )
            if position in drafts and index == len(starts) - 1 and start >= end - OPEN_WINDOW * 2:
                invoice.status = "draft"
                invoice.versions = [("draft", start)]
            elif start >= end - OPEN_WINDOW:
                invoice.status = "open"
                invoice.versions = [("open", start)]
            else:
                paid_at = min(
                    start + timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 23)),
                    last_update,
                )
                invoice.versions = [("paid", paid_at)]
                if rng.random() < 0.08:
                    invoice.versions.insert(0, ("open", start))  # a snapshot seen before payment
            invoices.append(invoice)

    errors = _inject_errors(invoices, plans, rng)
    erroneous = {error["invoice"].invoice_id for error in errors}
    invoices = _void_and_reissue(invoices, rng, last_update, erroneous)
    ends = seat_billing_ends or {}

    def kept(invoice: Invoice) -> bool:
        end_at = ends.get(invoice.subscription.subscription_id)
        return end_at is None or invoice.period_start < end_at

    invoices = [invoice for invoice in invoices if kept(invoice)]
    errors = [error for error in errors if kept(error["invoice"])]
    for invoice in invoices:
        invoice.finalize()
    for error in errors:
        invoice = error.pop("invoice")
        line = error.pop("line", None)
        error["line_id"] = line.line_id if line is not None else None
        error["invoice_id"] = invoice.invoice_id
    return invoices, errors


def _inject_errors(
    invoices: list[Invoice], plans: list[PlanPrice], rng: random.Random
) -> list[dict]:
    """About 1% of invoices carry one realistic billing error each (listed in the manifest)."""
    eligible = [invoice for invoice in invoices if invoice.status in ("paid", "open")]
    wanted = max(3, round(len(eligible) / 100))
    plan_ids = [row.plan_id for row in plans]
    increased = {plan_id for plan_id in plan_ids if plan_ids.count(plan_id) > 1}

    def stale_quantity(invoice: Invoice) -> int | None:
        if invoice.period_index == 0:
            return None
        previous = period_start(
            invoice.subscription.started_at,
            invoice.subscription.interval_months,
            invoice.period_index - 1,
        )
        seats = billable_seats(invoice.subscription.events, previous)
        return seats if seats != invoice.lines[0].quantity else None

    def old_price(invoice: Invoice) -> Decimal | None:
        plan_id = invoice.subscription.plan_id
        if plan_id not in increased:
            return None
        current = price_in_effect(plans, plan_id, invoice.period_start).seat_unit_amount
        first = min(
            (row for row in plans if row.plan_id == plan_id), key=lambda r: r.effective_from
        )
        return first.seat_unit_amount if first.seat_unit_amount != current else None

    candidates = {
        "missed_proration": [
            i for i in eligible if any(x.line_type == "proration" for x in i.lines)
        ],
        "stale_quantity": [i for i in eligible if stale_quantity(i) is not None],
        "price_mismatch": [i for i in eligible if old_price(i) is not None],
    }
    errors: list[dict] = []
    used: set[str] = set()
    kinds = list(candidates)
    for number in range(wanted):
        kind = kinds[number % len(kinds)]
        pool = [invoice for invoice in candidates[kind] if invoice.invoice_id not in used]
        if not pool:
            continue
        invoice = rng.choice(pool)
        used.add(invoice.invoice_id)
        seat_line = invoice.lines[0]
        if kind == "missed_proration":
            prorations = [line for line in invoice.lines if line.line_type == "proration"]
            line = rng.choice(prorations)
            invoice.lines.remove(line)
            errors.append(
                {
                    "kind": kind,
                    "invoice": invoice,
                    "source_event_id": line.source_event_id,
                    "expected_amount": money(line.amount),
                    "invoiced_amount": "0.00",
                }
            )
            continue
        expected = seat_line.amount
        if kind == "stale_quantity":
            seat_line.quantity = stale_quantity(invoice)
            seat_line.description = (
                f"{seat_line.quantity} seat(s), " + seat_line.description.split(", ", 1)[1]
            )
        else:
            seat_line.unit_amount = old_price(invoice)
        seat_line.amount = seat_line.quantity * seat_line.unit_amount
        errors.append(
            {
                "kind": kind,
                "invoice": invoice,
                "line": seat_line,
                "source_event_id": None,
                "expected_amount": money(expected),
                "invoiced_amount": money(seat_line.amount),
            }
        )
    return errors


def _void_and_reissue(
    invoices: list[Invoice], rng: random.Random, last_update: datetime, erroneous: set[str]
) -> list[Invoice]:
    """A handful of paid invoices were voided and re-issued (same period, same lines, new id)."""
    paid = [
        invoice
        for invoice in invoices
        if invoice.status == "paid"
        and len(invoice.versions) == 1
        and invoice.invoice_id not in erroneous
    ]
    chosen = {
        invoice.invoice_id
        for invoice in rng.sample(paid, min(len(paid), max(2, len(invoices) // 200)))
    }
    result = []
    for invoice in invoices:
        result.append(invoice)
        if invoice.invoice_id not in chosen:
            continue
        invoice.status = "void"
        invoice.versions = [
            ("open", invoice.period_start),
            ("void", invoice.period_start + timedelta(days=1)),
        ]
        replacement = Invoice(
            invoice_id=invoice.invoice_id + "r",
            subscription=invoice.subscription,
            period_index=invoice.period_index,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            lines=[Line(**{**line.__dict__, "line_id": ""}) for line in invoice.lines],
            versions=[("paid", min(invoice.period_start + timedelta(days=4), last_update))],
        )
        result.append(replacement)
    return result
