"""`seatshift import stripe`: a Stripe account's objects, as the Stripe API returns them, written
as the contract's exports.

The input folder holds JSON-lines files, one API object per line, named by object:
`customers*.jsonl`, `prices*.jsonl`, `subscriptions*.jsonl` (each with its `items`),
`invoices*.jsonl` (each with its `lines`) and `events*.jsonl` (`customer.subscription.created`,
`.updated` and `.deleted`, with `data.object` and `data.previous_attributes`). Stripe's own
conventions hold: times are Unix seconds, amounts integers in the currency's minor unit, currency
codes lower case. Both shapes of an invoice line are read: the current one (`parent`,
`pricing`) and the older flat one (`subscription`, `proration`, `price`).

What it writes into the landing folder, and how:

- `accounts__stripe.csv`: one account a customer; `segment` from the customer's metadata key
  (default `segment`); a customer without it is reported, and so is everything of theirs. A
  customer without a currency of its own (Stripe sets it at the first charge) takes the one its
  invoices, else its subscriptions, are billed in, with a warning (billed_currencies): the
  contract's invoices must be in their account's currency.
- `plans__stripe.csv`: one plan a licensed, per-unit, recurring price (a seat price), at its
  `unit_amount` per `month` or `year`. A metered, tiered, one-time or other-interval price is
  reported (usage belongs in the usage_events export).
- `subscriptions__stripe.csv`: one a Stripe subscription, its plan the seat price of its items,
  `started_at` its `start_date`, or after a trial the trial's end (see below). The contract gives
  a subscription one plan: one whose seat price changed (an event's previous items name another
  seat price) takes its current one, with a warning that its invoices before the change will not
  reconcile.
- `seat_events__stripe.csv`: the seat ledger. The first quantity of a subscription's seat item
  is a `seat_added` at the subscription's `start_date`; every later change of that quantity in a
  `customer.subscription.updated` event is a `seat_added` or `seat_removed` of the difference, at
  the event's `created`. A cancellation needs no event: the subscription's end stops its seats.
  Stripe keeps events for 30 days, so a later import's events no longer hold the changes an
  earlier one wrote: the ledger already in the landing folder is kept as it is (its rows are
  loaded), and only the events it does not hold are added, each by its difference from the seats
  held so far. So import into the same landing folder each time.
- Trials: Stripe bills nothing in a subscription's trial (`trial_start` to `trial_end`) and
  anchors its billing cycle on `trial_end`, which the contract's `started_at` is. So after a
  trial `started_at` is `trial_end`, every seat change effective before it takes effect at it
  (each under its own event's id, its `recorded_at` kept: the seats at the trial's end are what
  billing starts with), the trial's $0 invoice (every line 0, its period ending by `trial_end`)
  is reported, not written, and a warning notes the trial. A subscription still in its trial at
  the export's time (the latest time its events, invoices and subscriptions name: see
  `export_time`) has billed nothing yet: it is reported, and so are its events and invoices; the
  first import after the trial's end brings it. One that ended in its trial is reported too.
- `invoices__stripe.csv` and `invoice_lines__stripe.csv`: the subscription invoices and their
  lines. An invoice's period is its regular subscription line's (Stripe's own `period_start` /
  `period_end` of a renewal invoice are the previous period). Stripe writes a seat change as two
  proration lines (the unused time at the old quantity, a credit; the remaining time at the new
  one); they are netted into the one proration line of the contract (the seats changed x the
  price x the share of the period left), which names the seat event it bills. A metered item's
  line is a `usage` line, a negative one-off item a `credit`, and each of the invoice's discounts
  (`total_discount_amounts`) a `discount` line, the subtotal less it (Stripe's subtotal is before
  discounts; the contract's is the sum of the lines).

It writes no `price_model_assignments`: Stripe knows its own prices, not the price book's models
that a pilot or a rollout moves accounts between (a move to a new Stripe price is a plan change,
which the subscriptions above already carry); the billing system that runs the pilot writes them.

Every object either maps or is listed, with its reason, in the import report
(`_import_report__stripe.csv` in the landing folder, a note the loader ignores, and printed). An
object in a currency other than USD with no rate in the landing folder's `fx_rates` files is
mapped, and reported as a warning: its dollars stay unknown until a rate arrives. The same input
writes the same files, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from orchestration.lib.contract import EXPORTS

OBJECT_FILES = ("customers", "prices", "subscriptions", "invoices", "events")
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
# Stripe's zero-decimal currencies: amounts are in the major unit already.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
}  # fmt: skip
# Stripe's three-decimal currencies: amounts are in thousandths of the major unit (5124 is 5.124
# KWD), where every other currency's are in hundredths.
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
SUBSCRIPTION_STATUS = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "canceled": "canceled",
}
INVOICE_STATUS = ("draft", "open", "paid", "void", "uncollectible")
SEGMENTS = EXPORTS["accounts"].column("segment").allowed
REPORT_FILE = "_import_report__stripe.csv"
WRITTEN = ("accounts", "plans", "subscriptions", "seat_events", "invoices", "invoice_lines")
SKIPPED, WARNING = "skipped", "warning"


@dataclass(frozen=True)
class Finding:
    """One line of the import report: an object that did not map (skipped), or mapped with a
    caveat (warning)."""

    kind: str  # skipped | warning
    object_type: str
    object_id: str
    reason: str


@dataclass
class ImportResult:
    written: dict[str, int] = field(default_factory=dict)  # export -> rows
    findings: list[Finding] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)  # object file kind -> objects

    @property
    def skipped(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind == SKIPPED]


class StripeImportError(Exception):
    """The input cannot be read at all (a missing folder, a line that is not JSON)."""


# --------------------------------------------------------------------------- reading


def read_objects(folder: Path) -> dict[str, list[dict]]:
    """Each object kind's objects, deduplicated by id (the latest line wins), sorted by id."""
    if not folder.is_dir():
        raise StripeImportError(f"{folder} is not a folder")
    objects: dict[str, dict[str, dict]] = {kind: {} for kind in OBJECT_FILES}
    for path in sorted(folder.iterdir()):
        kind = next((kind for kind in OBJECT_FILES if path.name.startswith(kind)), None)
        if kind is None or not path.name.endswith(".jsonl"):
            continue
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise StripeImportError(
                        f"{path.name}, line {number}: not a JSON object ({error.msg})"
                    ) from None
                if not isinstance(record, dict) or "id" not in record:
                    raise StripeImportError(f"{path.name}, line {number}: an object without id")
                objects[kind][record["id"]] = record
    return {kind: [found[key] for key in sorted(found)] for kind, found in objects.items()}


def _time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    moment = dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(seconds: int) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%d")


def _seconds(text: str) -> int:
    """Unix seconds of a time _time wrote."""
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC).timestamp())


def _money(minor: int | str | None, currency: str) -> str:
    """A Stripe amount (minor unit, an integer or a decimal string) in the major unit."""
    if minor is None or minor == "":
        return ""
    value = Decimal(str(minor))
    if currency.lower() in THREE_DECIMAL:
        value = value / 1000
    elif currency.lower() not in ZERO_DECIMAL:
        value = value / 100
    return format(value.normalize(), "f") if value != value.to_integral() else str(int(value))


def _currency(code: str | None) -> str | None:
    return code.upper() if isinstance(code, str) and re.fullmatch(r"[a-z]{3}", code) else None


# --------------------------------------------------------------------------- mapping


@dataclass
class _Mapper:
    segment_key: str
    rated_currencies: set[str]
    result: ImportResult = field(default_factory=ImportResult)
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    accounts: dict[str, str] = field(default_factory=dict)  # customer -> currency (or "")
    plans: dict[str, dict] = field(default_factory=dict)  # price id -> price
    subscriptions: dict[str, dict] = field(default_factory=dict)  # id -> mapped row
    seat_items: dict[str, str] = field(default_factory=dict)  # subscription -> seat item id
    seat_events: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    # subscription -> the seat ledger an earlier import wrote into the landing folder
    written_ledger: dict[str, list[dict]] = field(default_factory=dict)
    # the export's time: its latest event, invoice or subscription change (see export_time)
    now: int = 0
    # subscription -> (trial start, trial end) of a trial that ended before the export
    trials: dict[str, tuple[int, int]] = field(default_factory=dict)

    def report(self, kind: str, object_type: str, object_id: str, reason: str) -> None:
        self.result.findings.append(Finding(kind, object_type, object_id, reason))

    def _warn_currency(self, object_type: str, object_id: str, currency: str) -> None:
        if currency != "USD" and currency not in self.rated_currencies:
            self.report(
                WARNING,
                object_type,
                object_id,
                f"no FX rate for {currency} in the landing folder's fx_rates files: its dollar "
                "figures stay unknown until an fx_rates export covers it",
            )

    # ---- customers -> accounts
    def customers(self, customers: list[dict], billed_in: dict[str, str] | None = None) -> None:
        """`billed_in`: customer -> the currency its invoices (else its subscriptions' prices)
        are in, for a customer without a currency of its own (billed_currencies)."""
        billed_in = billed_in or {}
        for customer in customers:
            if customer.get("deleted"):
                # Stripe keeps only a deleted customer's id: nothing to map an account from
                self.report(
                    SKIPPED,
                    "customer",
                    customer["id"],
                    "a deleted customer (Stripe keeps only its id)",
                )
                continue
            metadata = customer.get("metadata") or {}
            segment = metadata.get(self.segment_key)
            if segment not in SEGMENTS:
                said = "has none" if segment is None else f"is {segment!r}"
                self.report(
                    SKIPPED,
                    "customer",
                    customer["id"],
                    f"metadata[{self.segment_key!r}] {said}; the segment must be one of "
                    + ", ".join(SEGMENTS),
                )
                continue
            currency = _currency(customer.get("currency")) or ""
            if not currency and billed_in.get(customer["id"]):
                # Stripe sets a customer's currency at its first charge; an export taken before,
                # or a customer created by hand, has none, and the contract's invoices must be in
                # the account's currency: the one the customer is billed in stands for it
                currency = billed_in[customer["id"]]
                self.report(
                    WARNING,
                    "customer",
                    customer["id"],
                    f"has no currency of its own; its account takes {currency}, the currency "
                    "its invoices and subscriptions are billed in",
                )
            self.accounts[customer["id"]] = currency
            address = customer.get("address") or {}
            self.rows["accounts"].append(
                {
                    "account_id": customer["id"],
                    "account_name": customer.get("name") or customer.get("email") or customer["id"],
                    "segment": segment,
                    "country": (address.get("country") or "").upper(),
                    "currency": currency,
                    "created_at": _time(customer.get("created")),
                    "updated_at": _time(customer.get("created")),
                }
            )

    # ---- prices -> plans
    def prices(self, prices: list[dict]) -> None:
        for price in prices:
            reason = _unsupported_price(price)
            if reason:
                self.report(SKIPPED, "price", price["id"], reason)
                continue
            currency = _currency(price.get("currency"))
            if currency is None:
                self.report(
                    SKIPPED, "price", price["id"], f"unknown currency {price.get('currency')!r}"
                )
                continue
            self.plans[price["id"]] = price
            amount = price.get("unit_amount_decimal") or price.get("unit_amount")
            self.rows["plans"].append(
                {
                    "plan_id": price["id"],
                    "plan_name": price.get("nickname") or str(price.get("product") or price["id"]),
                    "currency": currency,
                    "billing_interval": price["recurring"]["interval"],
                    "seat_unit_amount": _money(amount, currency),
                    "platform_fee_amount": "",
                    "effective_from": _date(price["created"]),
                }
            )

    # ---- subscriptions (and their seat ledger from the events)
    def subscriptions_and_seats(self, subscriptions: list[dict], events: list[dict]) -> None:
        by_subscription: dict[str, list[dict]] = defaultdict(list)
        for event in sorted(events, key=lambda event: (event.get("created", 0), event["id"])):
            if event.get("type") not in SUBSCRIPTION_EVENTS:
                self.report(
                    SKIPPED,
                    "event",
                    event["id"],
                    f"event type {event.get('type')!r} is not a subscription's created, "
                    "updated or deleted",
                )
                continue
            subscription = (event.get("data") or {}).get("object") or {}
            by_subscription[subscription.get("id", "")].append(event)
        for subscription in subscriptions:
            self._subscription(subscription, by_subscription.pop(subscription["id"], []))
        for subscription_id, orphaned in sorted(by_subscription.items()):
            for event in orphaned:
                self.report(
                    SKIPPED,
                    "event",
                    event["id"],
                    f"its subscription {subscription_id} is not in the subscriptions files",
                )

    def _subscription(self, subscription: dict, events: list[dict]) -> None:
        self._map_subscription(subscription, events)
        if subscription["id"] not in self.subscriptions:
            for event in events:
                self.report(
                    SKIPPED,
                    "event",
                    event["id"],
                    f"its subscription {subscription['id']} was not imported (see that "
                    "subscription's line)",
                )

    def _map_subscription(self, subscription: dict, events: list[dict]) -> None:
        sub_id = subscription["id"]
        customer = subscription.get("customer")
        if customer not in self.accounts:
            self.report(
                SKIPPED,
                "subscription",
                sub_id,
                f"its customer {customer} was not imported (see that customer's line)",
            )
            return
        status = SUBSCRIPTION_STATUS.get(subscription.get("status", ""))
        if status is None:
            self.report(
                SKIPPED,
                "subscription",
                sub_id,
                f"status {subscription.get('status')!r} is not a billing subscription "
                "(active, trialing, past_due, unpaid or canceled)",
            )
            return
        ended = subscription.get("ended_at") or (
            subscription.get("canceled_at") if status == "canceled" else None
        )
        trial = _trial(subscription)
        if trial is not None:
            trial_start, trial_end = trial
            said = f"from {_time(trial_start)} to {_time(trial_end)}"
            if ended is not None and ended <= trial_end:
                self.report(
                    SKIPPED,
                    "subscription",
                    sub_id,
                    f"ended at {_time(ended)}, in its trial ({said}): nothing was ever billed",
                )
                return
            if trial_end > self.now:
                self.report(
                    SKIPPED,
                    "subscription",
                    sub_id,
                    f"in a trial until {_time(trial_end)}: nothing is billed yet; the import "
                    "after the trial's end brings it",
                )
                return
        seat_items, other_items = [], []
        for item in _items(subscription):
            price_id = (item.get("price") or {}).get("id")
            (seat_items if price_id in self.plans else other_items).append(item)
        for item in other_items:
            price_id = (item.get("price") or {}).get("id")
            self.report(
                WARNING,
                "subscription_item",
                item["id"],
                f"of {sub_id}: its price {price_id} is not a seat price (see that price's line); "
                "its invoice lines are kept, as usage",
            )
        if len(seat_items) != 1:
            self.report(
                SKIPPED,
                "subscription",
                sub_id,
                f"has {len(seat_items)} seat items; the contract gives a subscription one plan",
            )
            return
        seat_item = seat_items[0]
        plan_id = seat_item["price"]["id"]
        self.seat_items[sub_id] = seat_item["id"]
        self._warn_plan_change(sub_id, plan_id, events)
        currency = _currency(self.plans[plan_id].get("currency")) or ""
        self._warn_currency("subscription", sub_id, currency)
        if trial is not None:
            self.trials[sub_id] = trial
            self.report(
                WARNING,
                "subscription",
                sub_id,
                f"its trial from {_time(trial[0])} to {_time(trial[1])} is not billed, so billing "
                "and seats start at its end (Stripe's billing-cycle anchor): started_at is "
                "the trial's end, and so is every seat change made in the trial",
            )
        latest = max([subscription.get("start_date") or 0, *(e["created"] for e in events)])
        self.subscriptions[sub_id] = row = {
            "subscription_id": sub_id,
            "account_id": customer,
            "plan_id": plan_id,
            "status": status,
            "started_at": _time(_billing_start(subscription)),
            "canceled_at": _time(ended),
            "updated_at": _time(latest),
        }
        self.rows["subscriptions"].append(row)
        self._seat_ledger(subscription, seat_item, events)

    def _warn_plan_change(self, sub_id: str, plan_id: str, events: list[dict]) -> None:
        """A seat price the subscription had before (an event's previous items) that is not its
        seat price now: the contract gives a subscription one plan, its current one, so its
        periods before the change are expected at the new price; say so."""
        earlier = sorted(
            (event["created"], item["price"]["id"])
            for event in events
            for item in _items_of((event["data"].get("previous_attributes") or {}).get("items"))
            if (item.get("price") or {}).get("id") in self.plans and item["price"]["id"] != plan_id
        )
        if earlier:
            changed_at, before = earlier[-1]
            self.report(
                WARNING,
                "subscription",
                sub_id,
                f"its seat price changed from {before} to {plan_id} at {_time(changed_at)}: the "
                f"contract gives a subscription one plan, its current one, so its periods "
                f"before are expected at {plan_id}'s price and their invoices will not reconcile",
            )

    def _seat_ledger(self, subscription: dict, seat_item: dict, events: list[dict]) -> None:
        sub_id = subscription["id"]
        start = _billing_start(subscription)
        written = self.written_ledger.get(sub_id, [])
        if written:
            self._continue_ledger(subscription, seat_item, events, written)
            return
        quantities = []  # (effective, recorded, event id, quantity after)
        for event in events:
            item = _item(event["data"]["object"], seat_item["id"])
            if item is None:
                continue
            quantity = int(item.get("quantity") or 0)
            if event["type"] == "customer.subscription.created":
                quantities.append((start, event["created"], event["id"], quantity))
                continue
            previous = (event["data"].get("previous_attributes") or {}).get("items")
            before = _item(previous, seat_item["id"]) if previous else None
            if not quantities:  # no created event: the quantity before the first change
                first = int(before.get("quantity") or 0) if before else quantity
                quantities.append((start, start, f"{sub_id}:start", first))
            if before is not None or quantity != quantities[-1][3]:
                # a change in the trial takes effect when billing starts, at the trial's end
                effective = max(event["created"], start)
                quantities.append((effective, event["created"], event["id"], quantity))
        if not quantities:  # no events at all: the subscription's quantity since its start
            quantity = int(seat_item.get("quantity") or 0)
            quantities.append((start, start, f"{sub_id}:start", quantity))
        self._write_ledger(subscription, seat_item, quantities, held=0)

    def _continue_ledger(
        self, subscription: dict, seat_item: dict, events: list[dict], written: list[dict]
    ) -> None:
        """A subscription whose seat ledger an earlier import wrote: that ledger is kept as it
        was (its rows are loaded already, and Stripe keeps events for 30 days only, so a later
        export may no longer hold the events it came from), and only the events it does not
        hold add to it, each by its difference from the seats held so far."""
        for row in written:
            self.rows["seat_events"].append(row)
            self.seat_events[subscription["id"]].append(
                {**row, "_effective": _seconds(row["effective_at"])}
            )
        held = sum(
            int(row["quantity"]) * (1 if row["event_type"] == "seat_added" else -1)
            for row in written
        )
        known = {row["event_id"] for row in written}
        quantities = []
        for event in events:
            item = _item(event["data"]["object"], seat_item["id"])
            if item is None or f"{event['id']}:{seat_item['id']}" in known:
                continue
            quantity = int(item.get("quantity") or 0)
            if quantity != (quantities[-1][3] if quantities else held):
                effective = max(event["created"], _billing_start(subscription))
                quantities.append((effective, event["created"], event["id"], quantity))
        self._write_ledger(subscription, seat_item, quantities, held=held)

    def _write_ledger(
        self, subscription: dict, seat_item: dict, quantities: list[tuple], *, held: int
    ) -> None:
        """Each change of `quantities` (effective, recorded, event id, seats after) from `held`
        seats, as a seat event; a warning when the ledger does not end at the subscription's
        quantity."""
        sub_id, customer = subscription["id"], subscription["customer"]
        for effective, recorded, event_id, quantity in quantities:
            delta, held = quantity - held, quantity
            if delta == 0:
                continue
            seat_event = {
                "event_id": f"{event_id}:{seat_item['id']}",
                "account_id": customer,
                "subscription_id": sub_id,
                "event_type": "seat_added" if delta > 0 else "seat_removed",
                "quantity": abs(delta),
                "seat_role": "",
                "user_id": "",
                "effective_at": _time(effective),
                "recorded_at": _time(recorded),
                "corrects_event_id": "",
                "source": "api",
            }
            self.seat_events[sub_id].append({**seat_event, "_effective": effective})
            self.rows["seat_events"].append(seat_event)
        final = int(seat_item.get("quantity") or 0)
        if held != final and subscription.get("status") != "canceled":
            self.report(
                WARNING,
                "subscription",
                sub_id,
                f"its events end at {held} seats, the subscription holds {final}: an event is "
                "missing from the events files",
            )

    # ---- invoices and lines
    def invoices(self, invoices: list[dict]) -> None:
        for invoice in invoices:
            self._invoice(invoice)

    def _invoice(self, invoice: dict) -> None:
        invoice_id = invoice["id"]
        sub_id = _invoice_subscription(invoice)
        if sub_id is None:
            self.report(SKIPPED, "invoice", invoice_id, "not a subscription's invoice")
            return
        if sub_id not in self.subscriptions:
            self.report(
                SKIPPED,
                "invoice",
                invoice_id,
                f"its subscription {sub_id} was not imported (see that subscription's line)",
            )
            return
        currency = _currency(invoice.get("currency"))
        if currency is None or invoice.get("status") not in INVOICE_STATUS:
            self.report(
                SKIPPED,
                "invoice",
                invoice_id,
                f"currency {invoice.get('currency')!r} or status {invoice.get('status')!r} "
                "is not Stripe's",
            )
            return
        lines = list((invoice.get("lines") or {}).get("data") or [])
        if (invoice.get("lines") or {}).get("has_more"):
            self.report(
                WARNING,
                "invoice",
                invoice_id,
                "its lines list has more lines than the file holds (export it with every line)",
            )
        seat_item = self.seat_items[sub_id]
        regular = [line for line in lines if _line_item(line) == seat_item and not _proration(line)]
        periods = [line["period"] for line in regular if line.get("period")]
        start = min(period["start"] for period in periods) if periods else invoice["period_start"]
        end = max(period["end"] for period in periods) if periods else invoice["period_end"]
        trial = self.trials.get(sub_id)
        if (
            trial is not None
            and end <= trial[1]
            and all(int(line.get("amount") or 0) == 0 for line in lines)
        ):
            self.report(
                SKIPPED,
                "invoice",
                invoice_id,
                f"the zero invoice of its subscription's trial ({_time(trial[0])} to "
                f"{_time(trial[1])}): nothing is billed in a trial; billing starts at its end",
            )
            return
        transitions = invoice.get("status_transitions") or {}
        issued = transitions.get("finalized_at") or invoice.get("created")
        tax = invoice.get("tax")
        if tax is None:
            tax = sum(
                int(tax_line.get("amount") or 0) for tax_line in invoice.get("total_taxes") or []
            )
        # Stripe's subtotal is before discounts and its total after them; the contract's subtotal
        # is the sum of the lines, so each discount is a line of its own and the subtotal less it.
        discounts = [
            found
            for found in invoice.get("total_discount_amounts") or []
            if int(found.get("amount") or 0)
        ]
        subtotal = invoice.get("subtotal")
        if subtotal is not None and discounts:
            subtotal = int(subtotal) - sum(int(found["amount"]) for found in discounts)
        self.rows["invoices"].append(
            {
                "invoice_id": invoice_id,
                "account_id": invoice.get("customer"),
                "subscription_id": sub_id,
                "currency": currency,
                "period_start": _time(start),
                "period_end": _time(end),
                "issued_at": _time(issued),
                "status": invoice["status"],
                "subtotal": _money(subtotal, currency),
                "tax": _money(tax, currency),
                "total": _money(invoice.get("total"), currency),
                "updated_at": _time(
                    max(value for value in [invoice.get("created"), *transitions.values()] if value)
                ),
            }
        )
        self._lines(invoice_id, sub_id, currency, lines)
        for found in discounts:
            discount = found.get("discount")
            discount_id = discount.get("id") if isinstance(discount, dict) else discount
            self.rows["invoice_lines"].append(
                {
                    "line_id": f"{invoice_id}:{discount_id or 'discount'}",
                    "invoice_id": invoice_id,
                    "line_type": "discount",
                    "description": f"Discount {discount_id}" if discount_id else "Discount",
                    "quantity": "",
                    "unit_amount": "",
                    "amount": _money(-int(found["amount"]), currency),
                    "period_start": _time(start),
                    "period_end": _time(end),
                    "source_event_id": "",
                }
            )

    def _lines(self, invoice_id: str, sub_id: str, currency: str, lines: list[dict]) -> None:
        prorations: dict[tuple, list[dict]] = defaultdict(list)
        for line in lines:
            if _proration(line):
                prorations[(_line_item(line), line["period"]["start"])].append(line)
                continue
            price = _line_price(line)
            item = _line_item(line)
            if item is not None and item == self.seat_items.get(sub_id):
                line_type = "subscription"
            elif item is not None or price in self.plans:
                line_type = "usage"  # a subscription's item that is no seat (metered)
            elif int(line.get("amount") or 0) < 0:
                line_type = "credit"
            else:
                self.report(
                    SKIPPED,
                    "invoice_line",
                    line["id"],
                    f"of {invoice_id}: a one-off invoice item; only subscription lines, "
                    "prorations and credits are imported",
                )
                continue
            self.rows["invoice_lines"].append(
                {
                    "line_id": line["id"],
                    "invoice_id": invoice_id,
                    "line_type": line_type,
                    "description": line.get("description") or "",
                    "quantity": line.get("quantity") if line.get("quantity") is not None else "",
                    "unit_amount": _money(_unit_amount(line), currency),
                    "amount": _money(line.get("amount"), currency),
                    "period_start": _time((line.get("period") or {}).get("start")),
                    "period_end": _time((line.get("period") or {}).get("end")),
                    "source_event_id": "",
                }
            )
        for (_, change_at), pair in sorted(prorations.items(), key=lambda kv: kv[0][1]):
            self._proration_line(invoice_id, sub_id, currency, change_at, pair)

    def _proration_line(
        self, invoice_id: str, sub_id: str, currency: str, change_at: int, pair: list[dict]
    ) -> None:
        """Stripe's credit and debit of one seat change, netted into the contract's line."""
        amount = sum(int(line.get("amount") or 0) for line in pair)
        seats = sum(
            int(line.get("quantity") or 0) * (1 if int(line.get("amount") or 0) >= 0 else -1)
            for line in pair
        )
        events = [
            event for event in self.seat_events.get(sub_id, []) if event["_effective"] == change_at
        ]
        if len(events) != 1:
            for line in pair:
                self.report(
                    WARNING,
                    "invoice_line",
                    line["id"],
                    f"of {invoice_id}: a proration from {_time(change_at)} that no single seat "
                    "change of the events matches; it names no seat event",
                )
        first = min(pair, key=lambda line: line["id"])
        self.rows["invoice_lines"].append(
            {
                "line_id": first["id"],
                "invoice_id": invoice_id,
                "line_type": "proration",
                "description": f"Proration: {seats:+d} seats from {_time(change_at)}",
                "quantity": seats,
                "unit_amount": _money(_unit_amount(first), currency),
                "amount": _money(amount, currency),
                "period_start": _time(first["period"]["start"]),
                "period_end": _time(first["period"]["end"]),
                "source_event_id": events[0]["event_id"] if len(events) == 1 else "",
            }
        )


def _unsupported_price(price: dict) -> str | None:
    recurring = price.get("recurring")
    if price.get("type") != "recurring" or not recurring:
        return "a one-time price: seatshift imports recurring seat prices"
    if recurring.get("usage_type") == "metered":
        return "a metered price: usage belongs in the usage_events export, not a seat plan"
    if price.get("billing_scheme") == "tiered":
        return "a tiered price: a seat plan has one price per seat"
    interval, count = recurring.get("interval"), recurring.get("interval_count", 1)
    if interval not in ("month", "year") or count != 1:
        return f"billed every {count} {interval}: a seat plan is billed monthly or yearly"
    if price.get("unit_amount") is None and not price.get("unit_amount_decimal"):
        return "no unit_amount"
    return None


def _trial(subscription: dict) -> tuple[int, int] | None:
    """The subscription's trial (start, end), or None without one (a `trial_end` at or before
    the subscription's start is none either)."""
    start = subscription.get("start_date") or subscription.get("created")
    trial_end = subscription.get("trial_end")
    if not trial_end or (start and trial_end <= start):
        return None
    return int(subscription.get("trial_start") or start or trial_end), int(trial_end)


def _billing_start(subscription: dict) -> int:
    """When billing starts: the trial's end (Stripe's billing-cycle anchor after a trial), else
    the subscription's start."""
    trial = _trial(subscription)
    if trial is not None:
        return trial[1]
    return subscription.get("start_date") or subscription.get("created")


def export_time(objects: dict[str, list[dict]]) -> int:
    """The time of the export: the latest time any of its events, invoices or subscriptions
    says something happened (an event's creation; an invoice's creation, finalization, payment
    or voiding; a subscription's creation, current period's start, cancellation or end). A trial
    ending after it has not ended yet."""
    times = [event.get("created") for event in objects.get("events", [])]
    for invoice in objects.get("invoices", []):
        times.append(invoice.get("created"))
        times.extend((invoice.get("status_transitions") or {}).values())
    for subscription in objects.get("subscriptions", []):
        periods = [subscription, *_items(subscription)]
        times.extend(found.get("current_period_start") for found in periods)
        times.extend(subscription.get(name) for name in ("created", "canceled_at", "ended_at"))
    return max((int(found) for found in times if isinstance(found, int | float)), default=0)


def billed_currencies(objects: dict[str, list[dict]]) -> dict[str, str]:
    """Customer -> the currency it is billed in: its earliest invoice's, else the price of its
    earliest subscription's first item with one (upper case)."""
    found: dict[str, str] = {}
    for invoice in sorted(objects.get("invoices", []), key=lambda i: i.get("created") or 0):
        currency = _currency(invoice.get("currency"))
        if currency and invoice.get("customer"):
            found.setdefault(invoice["customer"], currency)
    subscriptions = sorted(objects.get("subscriptions", []), key=lambda s: s.get("created") or 0)
    for subscription in subscriptions:
        for found_item in _items(subscription):
            currency = _currency((found_item.get("price") or {}).get("currency"))
            if currency and subscription.get("customer"):
                found.setdefault(subscription["customer"], currency)
                break
    return found


def _items(subscription: dict) -> list[dict]:
    return list((subscription.get("items") or {}).get("data") or [])


def _items_of(holder: dict | list | None) -> list[dict]:
    """The items of an `items` list object (or a bare list, or nothing)."""
    if isinstance(holder, dict):
        holder = holder.get("data")
    return [item for item in holder or [] if isinstance(item, dict)]


def _item(holder: dict | None, item_id: str) -> dict | None:
    if not holder:
        return None
    data = holder.get("data") if "data" in holder else _items(holder)
    return next((item for item in data or [] if item.get("id") == item_id), None)


def _invoice_subscription(invoice: dict) -> str | None:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = parent.get("subscription") or invoice.get("subscription")
    return found.get("id") if isinstance(found, dict) else found


def _line_details(line: dict) -> dict:
    parent = line.get("parent") or {}
    return parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}


def _line_subscription(line: dict) -> str | None:
    return _line_details(line).get("subscription") or line.get("subscription")


def _line_item(line: dict) -> str | None:
    return _line_details(line).get("subscription_item") or line.get("subscription_item")


def _proration(line: dict) -> bool:
    details = _line_details(line)
    return bool(details.get("proration") if "proration" in details else line.get("proration"))


def _line_price(line: dict) -> str | None:
    pricing = (line.get("pricing") or {}).get("price_details") or {}
    price = pricing.get("price") or line.get("price")
    return price.get("id") if isinstance(price, dict) else price


def _unit_amount(line: dict) -> str | None:
    pricing = line.get("pricing") or {}
    if pricing.get("unit_amount_decimal") is not None:
        return pricing["unit_amount_decimal"]
    price = line.get("price")
    if isinstance(price, dict):
        return price.get("unit_amount_decimal") or price.get("unit_amount")
    return None


# --------------------------------------------------------------------------- writing


def rated_currencies(landing: Path) -> set[str]:
    """The currencies the landing folder's fx_rates CSV files hold a rate for."""
    found = set()
    for path in sorted(landing.glob("fx_rates__*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            found |= {row.get("currency", "").upper() for row in csv.DictReader(handle)}
    return found


def unread_files(folder: Path) -> list[str]:
    """The files of the Stripe folder that read_objects does not read (hidden files aside)."""
    return [
        path.name
        for path in sorted(folder.iterdir())
        if not path.name.startswith(".")
        and not (
            path.name.endswith(".jsonl")
            and any(path.name.startswith(kind) for kind in OBJECT_FILES)
        )
    ]


def written_seat_ledger(landing: Path) -> dict[str, list[dict]]:
    """subscription -> the rows of the seat ledger an earlier import wrote into `landing`."""
    path = landing / "seat_events__stripe.csv"
    ledger: dict[str, list[dict]] = defaultdict(list)
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                ledger[row["subscription_id"]].append(row)
    return dict(ledger)


def import_stripe(source: Path, landing: Path, segment_key: str = "segment") -> ImportResult:
    """Map the objects in `source` into the contract's exports in `landing` (see the module)."""
    objects = read_objects(source)
    landing.mkdir(parents=True, exist_ok=True)
    mapper = _Mapper(segment_key, rated_currencies(landing))
    mapper.written_ledger = written_seat_ledger(landing)
    mapper.now = export_time(objects)
    mapper.result.read = {kind: len(found) for kind, found in objects.items()}
    for name in unread_files(source):
        mapper.report(
            SKIPPED,
            "file",
            name,
            f"not read: the import reads {', '.join(f'{kind}*.jsonl' for kind in OBJECT_FILES)} "
            "(credit notes, products, coupons and other objects are not mapped)",
        )
    mapper.customers(objects["customers"], billed_currencies(objects))
    mapper.prices(objects["prices"])
    mapper.subscriptions_and_seats(objects["subscriptions"], objects["events"])
    mapper.invoices(objects["invoices"])
    for export in (
        "accounts",
        "plans",
        "subscriptions",
        "seat_events",
        "invoices",
        "invoice_lines",
    ):
        rows = mapper.rows.get(export, [])
        key = EXPORTS[export].key
        rows = sorted(rows, key=lambda row: tuple(str(row[name]) for name in key))
        _write_csv(landing / f"{export}__stripe.csv", EXPORTS[export].column_names, rows)
        mapper.result.written[export] = len(rows)
    _write_csv(
        landing / REPORT_FILE,
        ["kind", "object_type", "object_id", "reason"],
        [vars(finding) for finding in mapper.result.findings],
    )
    return mapper.result


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write the file, unless it already holds these bytes: an unchanged import leaves the
    landing folder as it was, so the sensor does not wake for it."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return
    path.write_bytes(data)
