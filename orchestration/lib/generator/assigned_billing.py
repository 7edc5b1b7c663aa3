"""What the billing system invoices a pilot account once it has switched to its assigned model.

From the switch (`Assignment.effective_from`, a renewal of the account's subscription) the
account's seats are no longer invoiced per period in advance (`build_invoices` drops those seat
invoices). Instead it gets one invoice per calendar month of service, issued at the first instant
of the next month (usage in arrears), with one line per component of the assigned model, priced
by the price book the warehouse rates (`dbt_project/seeds/price_book/price_components.csv`):

- the quantities are the ones the warehouse rates an account-month on: billable seats at the
  month's end (0 once the subscription is canceled), input + output tokens of the events that
  occurred in the month (counted once per event id, as the warehouse counts them);
- each line's charge is the rating engine's: a `flat_fee` is its flat amount; a `standard`
  charge is (quantity / unit_size, less free_units x the free metric's quantity, not below 0) x
  unit_amount; each rounded half-up to cents;
- in the switch month the model was in force for part of the month only: each line is the full
  month's charge x (seconds from the switch to the month's end / seconds in the month), rounded
  half-up to cents per line. That is the proration under the new model;
- the switch month's invoice also carries the prorations of the last seat period's seat changes
  (the seat invoice that would have carried them is not issued), at the seat price, as before.

A line names its component in brackets at the end of its description, `[<model>:<component>]`,
which is how the warehouse pairs it with its expected line. The invoices are in USD: the pilot
is drawn among accounts billed in USD, the price book's currency. A month whose invoice would be
issued at or after the data's end is not invoiced yet; a month that starts at or after the
subscription's cancellation is not invoiced.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib.generator.assignments import Assignment
from orchestration.lib.generator.billing import OPEN_WINDOW, Invoice, Line
from orchestration.lib.generator.calendar import add_months, proration_amount, round_cents
from orchestration.lib.generator.entities import PlanPrice, Subscription, price_in_effect
from orchestration.lib.settings import REPO_ROOT

PRICE_COMPONENTS = REPO_ROOT / "dbt_project" / "seeds" / "price_book" / "price_components.csv"


@dataclass(frozen=True)
class Component:
    component_id: str
    metric: str
    charge_model: str
    unit_size: Decimal
    unit_amount: Decimal | None
    flat_amount: Decimal | None
    free_units: Decimal
    free_units_per_metric: str | None


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def price_components(price_model_id: str, path: Path = PRICE_COMPONENTS) -> list[Component]:
    """The model's components from the price book, in the book's order. Only the charge models
    the billing system knows how to invoice (flat_fee, standard) are accepted."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["price_model_id"] == price_model_id]
    if not rows:
        raise ValueError(f"the price book has no model {price_model_id!r}")
    components = []
    for row in rows:
        if row["charge_model"] not in ("flat_fee", "standard"):
            raise ValueError(
                f"{price_model_id}.{row['component_id']}: the billing system invoices flat_fee "
                f"and standard charges, not {row['charge_model']}"
            )
        components.append(
            Component(
                component_id=row["component_id"],
                metric=row["metric"],
                charge_model=row["charge_model"],
                unit_size=_number(row["unit_size"]) or Decimal(1),
                unit_amount=_number(row["unit_amount"]),
                flat_amount=_number(row["flat_amount"]),
                free_units=_number(row["free_units"]) or Decimal(0),
                free_units_per_metric=row["free_units_per_metric"].strip() or None,
            )
        )
    return components


def month_quantities(seats: int, tokens: int) -> dict[str, Decimal]:
    """The metrics a month is rated on, as the warehouse names them."""
    return {"seats": Decimal(seats), "tokens": Decimal(tokens), "platform": Decimal(1)}


def full_month_charge(component: Component, quantities: dict[str, Decimal]) -> Decimal:
    """The rating engine's charge of one component for a whole month, rounded half-up to cents."""
    if component.charge_model == "flat_fee":
        return round_cents(component.flat_amount or Decimal(0))
    units = quantities[component.metric] / component.unit_size
    per = component.free_units_per_metric
    free = component.free_units * (
        Decimal(1) if per in (None, "platform") else quantities.get(per, Decimal(0))
    )
    return round_cents(max(units - free, Decimal(0)) * (component.unit_amount or Decimal(0)))


def prorated(amount: Decimal, seconds_in_force: int, seconds_in_month: int) -> Decimal:
    """A month's charge for the part of the month the model was in force, half-up to cents."""
    if seconds_in_force == seconds_in_month:
        return amount
    return round_cents(amount * Decimal(seconds_in_force) / Decimal(seconds_in_month))


def tokens_by_account_month(
    connection: duckdb.DuckDBPyConnection, account_ids: list[str]
) -> dict[tuple[str, datetime], int]:
    """Input + output tokens per account and month of occurrence, from the generated events
    (each event once: its re-deliveries are the warehouse's to drop)."""
    if not account_ids:
        return {}
    rows = connection.execute(
        """
        select account_id, date_trunc('month', occurred_at) as month,
            sum(input_tokens + output_tokens)::bigint
        from usage_generated
        where account_id in (select unnest(?))
        group by all
        """,
        [account_ids],
    ).fetchall()
    return {(account_id, month): int(tokens) for account_id, month, tokens in rows}


def _seats_at_month_end(subscription: Subscription, next_month: datetime) -> int:
    if subscription.canceled_at is not None and subscription.canceled_at < next_month:
        return 0
    return sum(
        event.seats_delta
        for event in subscription.events
        if not event.voided and event.effective_at < next_month
    )


def build_assigned_invoices(
    assignments: list[Assignment],
    subscriptions: list[Subscription],
    plans: list[PlanPrice],
    tokens: dict[tuple[str, datetime], int],
    end: datetime,
    seed: int,
    current_price_model: str,
) -> list[Invoice]:
    """The monthly invoices of every account assigned to a model other than the current one,
    from its switch to the data's end, finalized, in issue order."""
    rng = random.Random(f"{seed}:assigned-invoices")
    last_update = end - timedelta(seconds=1)
    by_account = {subscription.account.account_id: subscription for subscription in subscriptions}
    invoices: list[Invoice] = []
    for assignment in assignments:
        if assignment.price_model_id == current_price_model:
            continue
        subscription = by_account[assignment.account_id]
        components = price_components(assignment.price_model_id)
        switch = assignment.effective_from
        month = datetime(switch.year, switch.month, 1)
        while add_months(month, 1) < end:
            next_month = add_months(month, 1)
            start = max(month, switch)
            if subscription.canceled_at is not None and subscription.canceled_at <= start:
                break
            quantities = month_quantities(
                _seats_at_month_end(subscription, next_month),
                tokens.get((assignment.account_id, month), 0),
            )
            in_force = int((next_month - start).total_seconds())
            length = int((next_month - month).total_seconds())
            lines = [
                _component_line(assignment.price_model_id, component, quantities, in_force, length)
                for component in components
            ]
            for line in lines:
                line.period_start, line.period_end = start, next_month
            if start == switch:
                lines += _last_seat_period_prorations(subscription, plans, switch)
            invoice = Invoice(
                invoice_id=f"inv_{subscription.account.index + 1:05d}_m{month:%Y%m}",
                subscription=subscription,
                period_index=-1,
                period_start=start,
                period_end=next_month,
                lines=lines,
                issued=next_month,
            )
            if next_month >= end - OPEN_WINDOW:
                invoice.versions = [("open", next_month)]
                invoice.status = "open"
            else:
                paid_at = min(
                    next_month + timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 23)),
                    last_update,
                )
                invoice.versions = [("paid", paid_at)]
            invoice.finalize()
            invoices.append(invoice)
            month = next_month
    return sorted(invoices, key=lambda invoice: (invoice.issued_at, invoice.invoice_id))


def _component_line(
    price_model_id: str,
    component: Component,
    quantities: dict[str, Decimal],
    in_force: int,
    length: int,
) -> Line:
    full = full_month_charge(component, quantities)
    label = {"platform": "Platform", "seats": "Seats", "tokens": "Tokens"}.get(
        component.metric, component.metric.replace("_", " ").capitalize()
    )
    share = "" if in_force == length else f", {in_force}/{length} of the month"
    if component.charge_model == "flat_fee":
        quantity, unit_amount = Decimal(1), component.flat_amount
    else:
        quantity, unit_amount = quantities[component.metric], component.unit_amount
    return Line(
        "usage" if component.metric == "tokens" else "subscription",
        f"{label}{share} [{price_model_id}:{component.component_id}]",
        quantity,
        unit_amount,
        prorated(full, in_force, length),
        datetime.min,
        datetime.min,
    )


def _last_seat_period_prorations(
    subscription: Subscription, plans: list[PlanPrice], switch: datetime
) -> list[Line]:
    """The seat changes inside the seat period that ends at the switch, prorated by the seat
    rule as the next seat invoice would have carried them."""
    anchor, interval = subscription.started_at, subscription.interval_months
    index = 0
    while add_months(anchor, (index + 1) * interval) < switch:
        index += 1
    previous = add_months(anchor, index * interval)
    if add_months(anchor, (index + 1) * interval) != switch or previous >= switch:
        return []
    price = price_in_effect(plans, subscription.plan_id, previous)
    changes = sorted(
        (
            event
            for event in subscription.events
            if not event.voided and event.seats_delta and previous < event.effective_at < switch
        ),
        key=lambda event: (event.effective_at, event.event_id),
    )
    return [
        Line(
            "proration",
            f"{abs(event.seats_delta)} seat(s) "
            f"{'added' if event.seats_delta > 0 else 'removed'} ({event.event_type}) mid-period",
            event.seats_delta,
            price.seat_unit_amount,
            proration_amount(
                event.seats_delta, price.seat_unit_amount, event.effective_at, previous, switch
            ),
            event.effective_at,
            switch,
            source_event_id=event.event_id,
        )
        for event in changes
    ]
