"""A small Stripe account, written as the Stripe API returns its objects (one JSON object per
line), for the import's tests.

The shapes follow Stripe's API reference: `customer`, `price` (with `recurring`), `subscription`
(with `items.data[]` of `subscription_item`, each with its `price`), `event`
(`data.object`, `data.previous_attributes`) and `invoice` (with `lines.data[]`). Invoices come in
both of Stripe's line shapes: the current one (`parent.subscription_item_details`, `pricing`,
`total_taxes`, the invoice's `parent.subscription_details`) and the older flat one
(`subscription`, `proration`, `price`, `tax`). Times are Unix seconds, amounts minor units
(cents), currencies lower case.

The story (every month of 2025 below has the days named; April and June have 30):

- `cus_acme` (mid_market, USD) subscribes on 1 Apr to `price_seat_usd` ($50 a seat a month) with
  10 seats, goes to 14 on 16 Apr 00:00 and to 12 on 16 Jun 00:00. Stripe invoices each change on
  the next invoice as two proration lines: on 1 May -$250.00 (unused time, 10 seats x $50 x 15/30)
  and +$350.00 (remaining time, 14 seats); on 1 Jul -$350.00 (14 seats) and +$300.00 (12 seats).
- `cus_beta` (smb, USD) subscribes on 1 Apr to `price_seat_annual_usd` ($600 a seat a year) with
  3 seats, billed $1,800.00 for the year; the subscription is deleted (ends) on 1 Jul.
- `cus_cumulus` (enterprise, EUR, DE) subscribes on 1 Apr to `price_seat_eur` (EUR 40 a seat a
  month) with 20 seats and to `price_api_calls_eur`, a metered price; its invoices carry 19% VAT
  and, on 1 May, April's metered usage (EUR 12.34).
- `cus_delta` has no `segment` in its metadata: it, its subscription and its invoice are
  reported, not imported.
- `cus_echo` (smb, USD) subscribes on 20 Apr to `price_seat_usd` with a 14-day trial (to 4 May,
  the billing-cycle anchor) and 5 seats, and goes to 8 on 25 Apr, in the trial (no proration:
  nothing is billed in a trial). Stripe writes a $0 invoice for the trial on 20 Apr (5 seats,
  20 Apr - 4 May), then bills 8 x $50 = $400.00 on 4 May and on 4 Jun; an event of 4 May
  says the status went from `trialing` to `active`.
- `cus_foxtrot` (mid_market, USD) subscribes on 20 Jun with 3 seats and a trial to 4 Jul, which
  has not ended when the data does (the 1 Jul invoices): the subscription is `trialing`, its
  only invoice the trial's $0 one.
- `price_tiered_usd` is a tiered price nobody uses; an `invoice.paid` event is not a
  subscription's.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path


def ts(text: str) -> int:
    """Unix seconds of a UTC time written `2025-04-16` or `2025-04-16T01:00`."""
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return calendar.timegm(moment.utctimetuple())


PRICE_CREATED = ts("2025-03-01")
TIMES = "\N{MULTIPLICATION SIGN}"  # as Stripe writes a line's quantity


def price(price_id: str, currency: str, amount: int | None, interval: str, **extra) -> dict:
    recurring = {
        "interval": interval,
        "interval_count": 1,
        "meter": None,
        "trial_period_days": None,
        "usage_type": extra.pop("usage_type", "licensed"),
    }
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": extra.pop("billing_scheme", "per_unit"),
        "created": PRICE_CREATED,
        "currency": currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": extra.pop("nickname", None),
        "product": f"prod_{price_id.removeprefix('price_')}",
        "recurring": recurring,
        "tax_behavior": "exclusive",
        "tiers_mode": extra.pop("tiers_mode", None),
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": amount,
        "unit_amount_decimal": None if amount is None else str(amount),
    }


PRICES = [
    price("price_seat_usd", "usd", 5000, "month", nickname="Seat, monthly"),
    price("price_seat_annual_usd", "usd", 60000, "year", nickname="Seat, annual"),
    price("price_seat_eur", "eur", 4000, "month", nickname="Seat, monthly (EUR)"),
    price("price_api_calls_eur", "eur", 1, "month", usage_type="metered"),
    price(
        "price_tiered_usd", "usd", None, "month", billing_scheme="tiered", tiers_mode="graduated"
    ),
]
PRICE = {item["id"]: item for item in PRICES}


def customer(customer_id: str, name: str, currency: str, created: str, **metadata) -> dict:
    return {
        "id": customer_id,
        "object": "customer",
        "address": {"country": "DE" if currency == "eur" else "US"},
        "balance": 0,
        "created": ts(created),
        "currency": currency,
        "email": f"billing@{name.split()[0].lower()}.example",
        "livemode": False,
        "metadata": metadata,
        "name": name,
    }


CUSTOMERS = [
    customer("cus_acme", "Acme Analytics", "usd", "2025-03-15", segment="mid_market"),
    customer("cus_beta", "Beta Bakery", "usd", "2025-03-20", segment="smb"),
    customer("cus_cumulus", "Cumulus GmbH", "eur", "2025-03-25", segment="enterprise"),
    customer("cus_delta", "Delta Dynamics", "usd", "2025-03-28", region="emea"),
    customer("cus_echo", "Echo Events", "usd", "2025-04-18", segment="smb"),
    customer("cus_foxtrot", "Foxtrot Freight", "usd", "2025-06-18", segment="mid_market"),
]


def item(item_id: str, subscription: str, price_id: str, quantity: int | None) -> dict:
    found = {
        "id": item_id,
        "object": "subscription_item",
        "created": ts("2025-04-01"),
        "current_period_start": ts("2025-04-01"),
        "current_period_end": ts("2025-05-01"),
        "metadata": {},
        "price": PRICE[price_id],
        "subscription": subscription,
    }
    if quantity is not None:  # a metered item has no quantity
        found["quantity"] = quantity
    return found


def subscription(sub_id: str, customer_id: str, items: list[dict], **state) -> dict:
    """A subscription started on 1 Apr, unless `start` says another day; `trial` is a trial's
    (start, end), which Stripe makes the billing-cycle anchor its end."""
    start = state.get("start", "2025-04-01")
    trial = state.get("trial")
    trial_start, trial_end = (ts(trial[0]), ts(trial[1])) if trial else (None, None)
    return {
        "id": sub_id,
        "object": "subscription",
        "billing_cycle_anchor": trial_end or ts(start),
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": state.get("canceled_at"),
        "collection_method": "charge_automatically",
        "created": ts(start),
        "currency": items[0]["price"]["currency"],
        "customer": customer_id,
        "ended_at": state.get("ended_at"),
        "items": {"object": "list", "data": items, "has_more": False},
        "livemode": False,
        "metadata": {},
        "start_date": ts(start),
        "status": state.get("status", "active"),
        "trial_end": trial_end,
        "trial_start": trial_start,
    }


def acme(quantity: int) -> dict:
    return subscription(
        "sub_acme", "cus_acme", [item("si_acme_seats", "sub_acme", "price_seat_usd", quantity)]
    )


def beta(**state) -> dict:
    items = [item("si_beta_seats", "sub_beta", "price_seat_annual_usd", 3)]
    return subscription("sub_beta", "cus_beta", items, **state)


CUMULUS = subscription(
    "sub_cumulus",
    "cus_cumulus",
    [
        item("si_cumulus_seats", "sub_cumulus", "price_seat_eur", 20),
        item("si_cumulus_calls", "sub_cumulus", "price_api_calls_eur", None),
    ],
)
DELTA = subscription(
    "sub_delta", "cus_delta", [item("si_delta_seats", "sub_delta", "price_seat_usd", 5)]
)
BETA_ENDED = beta(status="canceled", canceled_at=ts("2025-06-10"), ended_at=ts("2025-07-01"))
ECHO_TRIAL = ("2025-04-20", "2025-05-04")


def echo(quantity: int, status: str = "active") -> dict:
    items = [item("si_echo_seats", "sub_echo", "price_seat_usd", quantity)]
    return subscription("sub_echo", "cus_echo", items, start="2025-04-20", trial=ECHO_TRIAL,
                        status=status)  # fmt: skip


FOXTROT = subscription(
    "sub_foxtrot",
    "cus_foxtrot",
    [item("si_foxtrot_seats", "sub_foxtrot", "price_seat_usd", 3)],
    start="2025-06-20",
    trial=("2025-06-20", "2025-07-04"),
    status="trialing",
)
SUBSCRIPTIONS = [acme(12), BETA_ENDED, CUMULUS, DELTA, echo(8), FOXTROT]


def event(event_id: str, kind: str, at: str, obj: dict, previous: dict | None = None) -> dict:
    data = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": ts(at),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def _previous_items(sub: dict) -> dict:
    return {"items": sub["items"]}


EVENTS = [
    event("evt_acme_1", "customer.subscription.created", "2025-04-01", acme(10)),
    event(
        "evt_acme_2",
        "customer.subscription.updated",
        "2025-04-16",
        acme(14),
        _previous_items(acme(10)),
    ),
    event(
        "evt_acme_3",
        "customer.subscription.updated",
        "2025-06-16",
        acme(12),
        _previous_items(acme(14)),
    ),
    event("evt_beta_1", "customer.subscription.created", "2025-04-01", beta()),
    event("evt_beta_2", "customer.subscription.deleted", "2025-07-01", BETA_ENDED),
    event("evt_cumulus_1", "customer.subscription.created", "2025-04-01", CUMULUS),
    event("evt_delta_1", "customer.subscription.created", "2025-04-01", DELTA),
    event("evt_echo_1", "customer.subscription.created", "2025-04-20", echo(5, "trialing")),
    event(
        "evt_echo_2",
        "customer.subscription.updated",
        "2025-04-25",
        echo(8, "trialing"),
        _previous_items(echo(5, "trialing")),
    ),
    # the trial's end: the status changes, the seats do not
    event(
        "evt_echo_3", "customer.subscription.updated", "2025-05-04", echo(8), {"status": "trialing"}
    ),
    event("evt_foxtrot_1", "customer.subscription.created", "2025-06-20", FOXTROT),
    event("evt_paid_1", "invoice.paid", "2025-04-01T01:00", {"id": "in_acme_1"}),
]


def line(line_id: str, sub: str, si: str, price_id: str, amount: int, quantity, start, end, *,
         proration=False, description="") -> dict:  # fmt: skip
    """An invoice line in the current shape (parent, pricing)."""
    return {
        "id": line_id,
        "object": "line_item",
        "amount": amount,
        "currency": PRICE[price_id]["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub,
                "subscription_item": si,
            },
        },
        "period": {"start": ts(start), "end": ts(end)},
        "pricing": {
            "price_details": {"price": price_id, "product": PRICE[price_id]["product"]},
            "type": "price_details",
            "unit_amount_decimal": PRICE[price_id]["unit_amount_decimal"],
        },
        "quantity": quantity,
        "taxes": [],
    }


def invoice(invoice_id: str, customer_id: str, sub: str, issued: str, lines: list[dict],
            *, vat: float = 0.0, period: tuple[str, str] | None = None) -> dict:  # fmt: skip
    """An invoice in the current shape (parent.subscription_details, total_taxes). Stripe's own
    period of a renewal invoice is the previous period: `period` says it."""
    subtotal = sum(found["amount"] for found in lines)
    tax = round(subtotal * vat)
    usage_start, usage_end = period or (issued, issued)
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": subtotal + tax,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": ts(issued),
        "currency": lines[0]["currency"],
        "customer": customer_id,
        "lines": {"object": "list", "data": lines, "has_more": False, "total_count": len(lines)},
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": sub},
        },
        "period_end": ts(usage_end),
        "period_start": ts(usage_start),
        "status": "paid",
        "status_transitions": {
            "finalized_at": ts(issued) + 3600,
            "marked_uncollectible_at": None,
            "paid_at": ts(issued) + 7200,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "total": subtotal + tax,
        "total_taxes": [{"amount": tax, "tax_behavior": "exclusive"}] if tax else [],
    }


def acme_seats(line_id: str, seats: int, start: str, end: str) -> dict:
    return line(line_id, "sub_acme", "si_acme_seats", "price_seat_usd", seats * 5000, seats, start,
                end, description=f"{seats} {TIMES} Seat (at $50.00 / month)")  # fmt: skip


def acme_proration(line_id: str, seats: int, amount: int, change: str, end: str, unused: bool):
    said = "Unused time on" if unused else "Remaining time on"
    described = f"{said} {seats} {TIMES} Seat after {change}"
    return line(line_id, "sub_acme", "si_acme_seats", "price_seat_usd", amount, seats, change,
                end, proration=True, description=described)  # fmt: skip


def echo_seats(line_id: str, seats: int, start: str, end: str, amount: int | None = None) -> dict:
    """Echo's seat line: seats x $50, or `amount` (0 for the trial's)."""
    amount = seats * 5000 if amount is None else amount
    return line(line_id, "sub_echo", "si_echo_seats", "price_seat_usd", amount, seats, start,
                end, description=f"{seats} {TIMES} Seat (at $50.00 / month)")  # fmt: skip


def trial_invoice(invoice_id: str, customer_id: str, sub: str, si: str, seats: int,
                  trial: tuple[str, str]) -> dict:  # fmt: skip
    """The $0 invoice Stripe writes when a subscription starts with a trial."""
    trial_line = line(f"il_{invoice_id.removeprefix('in_')}", sub, si, "price_seat_usd", 0, seats,
                      *trial, description="Trial period for Seat")  # fmt: skip
    found = invoice(invoice_id, customer_id, sub, trial[0], [trial_line])
    found["billing_reason"] = "subscription_create"
    return found


def cumulus_seats(line_id: str, start: str, end: str) -> dict:
    return line(line_id, "sub_cumulus", "si_cumulus_seats", "price_seat_eur", 80000, 20, start,
                end, description=f"20 {TIMES} Seat (at €40.00 / month)")  # fmt: skip


def beta_invoice() -> dict:
    """The older flat shape: `subscription` on the invoice, `type`, `proration`, `price` and
    `subscription_item` on the line, `tax` as an amount."""
    flat_line = {
        "id": "il_beta_1",
        "object": "line_item",
        "amount": 180000,
        "currency": "usd",
        "description": f"3 {TIMES} Seat (at $600.00 / year)",
        "period": {"start": ts("2025-04-01"), "end": ts("2026-04-01")},
        "price": PRICE["price_seat_annual_usd"],
        "proration": False,
        "quantity": 3,
        "subscription": "sub_beta",
        "subscription_item": "si_beta_seats",
        "type": "subscription",
    }
    return {
        "id": "in_beta_1",
        "object": "invoice",
        "created": ts("2025-04-01"),
        "currency": "usd",
        "customer": "cus_beta",
        "lines": {"object": "list", "data": [flat_line], "has_more": False},
        "period_end": ts("2025-04-01"),
        "period_start": ts("2025-04-01"),
        "status": "paid",
        "status_transitions": {"finalized_at": ts("2025-04-01T01:00"), "paid_at": None},
        "subscription": "sub_beta",
        "subtotal": 180000,
        "tax": 0,
        "total": 180000,
    }


INVOICES = [
    invoice("in_acme_1", "cus_acme", "sub_acme", "2025-04-01",
            [acme_seats("il_acme_1", 10, "2025-04-01", "2025-05-01")]),
    invoice("in_acme_2", "cus_acme", "sub_acme", "2025-05-01", [
        acme_proration("il_acme_2a", 10, -25000, "2025-04-16", "2025-05-01", unused=True),
        acme_proration("il_acme_2b", 14, 35000, "2025-04-16", "2025-05-01", unused=False),
        acme_seats("il_acme_2c", 14, "2025-05-01", "2025-06-01"),
    ], period=("2025-04-01", "2025-05-01")),
    invoice("in_acme_3", "cus_acme", "sub_acme", "2025-06-01",
            [acme_seats("il_acme_3", 14, "2025-06-01", "2025-07-01")],
            period=("2025-05-01", "2025-06-01")),
    invoice("in_acme_4", "cus_acme", "sub_acme", "2025-07-01", [
        acme_proration("il_acme_4a", 14, -35000, "2025-06-16", "2025-07-01", unused=True),
        acme_proration("il_acme_4b", 12, 30000, "2025-06-16", "2025-07-01", unused=False),
        acme_seats("il_acme_4c", 12, "2025-07-01", "2025-08-01"),
    ], period=("2025-06-01", "2025-07-01")),
    beta_invoice(),
    invoice("in_cumulus_1", "cus_cumulus", "sub_cumulus", "2025-04-01",
            [cumulus_seats("il_cumulus_1", "2025-04-01", "2025-05-01")], vat=0.19),
    invoice("in_cumulus_2", "cus_cumulus", "sub_cumulus", "2025-05-01", [
        cumulus_seats("il_cumulus_2a", "2025-05-01", "2025-06-01"),
        line("il_cumulus_2b", "sub_cumulus", "si_cumulus_calls", "price_api_calls_eur", 1234,
             1234, "2025-04-01", "2025-05-01", description=f"1,234 {TIMES} API calls"),
    ], vat=0.19, period=("2025-04-01", "2025-05-01")),
    invoice("in_cumulus_3", "cus_cumulus", "sub_cumulus", "2025-06-01",
            [cumulus_seats("il_cumulus_3", "2025-06-01", "2025-07-01")], vat=0.19,
            period=("2025-05-01", "2025-06-01")),
    invoice("in_cumulus_4", "cus_cumulus", "sub_cumulus", "2025-07-01",
            [cumulus_seats("il_cumulus_4", "2025-07-01", "2025-08-01")], vat=0.19,
            period=("2025-06-01", "2025-07-01")),
    invoice("in_delta_1", "cus_delta", "sub_delta", "2025-04-01",
            [line("il_delta_1", "sub_delta", "si_delta_seats", "price_seat_usd", 25000, 5,
                  "2025-04-01", "2025-05-01")]),
    trial_invoice("in_echo_1", "cus_echo", "sub_echo", "si_echo_seats", 5, ECHO_TRIAL),
    invoice("in_echo_2", "cus_echo", "sub_echo", "2025-05-04",
            [echo_seats("il_echo_2", 8, "2025-05-04", "2025-06-04")], period=ECHO_TRIAL),
    invoice("in_echo_3", "cus_echo", "sub_echo", "2025-06-04",
            [echo_seats("il_echo_3", 8, "2025-06-04", "2025-07-04")],
            period=("2025-05-04", "2025-06-04")),
    trial_invoice("in_foxtrot_1", "cus_foxtrot", "sub_foxtrot", "si_foxtrot_seats", 3,
                  ("2025-06-20", "2025-07-04")),
]  # fmt: skip

OBJECTS = {
    "customers": CUSTOMERS,
    "prices": PRICES,
    "subscriptions": SUBSCRIPTIONS,
    "events": EVENTS,
    "invoices": INVOICES,
}


def write_sample(folder: Path) -> Path:
    """The account's objects as `<kind>.jsonl` files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, objects in OBJECTS.items():
        text = "".join(json.dumps(found, sort_keys=True) + "\n" for found in objects)
        (folder / f"{kind}.jsonl").write_text(text, encoding="utf-8")
    return folder


def write_fx_rates(landing: Path, usd_per_eur: str = "1.10") -> Path:
    """The treasury's EUR rate for every day from March to August 2025."""
    path = landing / "fx_rates__treasury.csv"
    day, lines = dt.date(2025, 3, 1), ["rate_date,currency,usd_per_unit"]
    while day <= dt.date(2025, 8, 31):
        lines.append(f"{day.isoformat()},EUR,{usd_per_eur}")
        day += dt.timedelta(days=1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
