"""The demo company's pilot: which accounts the billing system moved to a proposal, and when.

The warehouse recommends a proposal per segment (the migration trigger, then the pilot list);
the generator cannot read the warehouse, so it pilots what the story and the shipped price book
are built for: the automating segment (`entities.AUTOMATING_SEGMENT`, mid-market), whose agents
take over work from seats, under the hybrid model (seats with included tokens), the one proposal
that segment's migration trigger fires for on the demo company (`seatshift generate`'s
defaults: revenue kept within a percent, no shadow bill shock). The accounts are picked by
segment and seats, not by the warehouse's fit score: a pilot account may later fall off the
pilot list (it churned, or its bill would rise past the limit), as a real pilot's can.

The pilot starts `PILOT_MONTHS_BEFORE_AS_OF` months before the last month of data, each account
at its own renewal in that month (the first period boundary on or after the month's start), so
a switch falls mid-month as real ones do. Eligible are the segment's monthly subscriptions in USD
(the price book's currency, so the proposal's invoices are its amounts) that have billed
`PILOT_HISTORY_MONTHS` months before the switch and are not canceled by then. They
are ranked by billable seats at the switch and taken in neighbouring pairs: a coin toss (seeded)
puts one of each pair in the pilot and the other in the `control` cohort, kept on the current
model, so the two cohorts are alike in size. At most `PILOT_MAX_PAIRS` pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestration.lib.generator.calendar import add_months, ts
from orchestration.lib.generator.entities import AUTOMATING_SEGMENT, Subscription

PILOT_PRICE_MODEL = "hybrid_seat_plus_tokens"
PILOT_SEGMENT = AUTOMATING_SEGMENT
# The control cohort stays where every account is: the price book's current model.
CONTROL_PRICE_MODEL = "current_per_seat"
# The price book's currency: both cohorts are drawn among accounts billed in it.
PILOT_CURRENCY = "USD"
PILOT_MONTHS_BEFORE_AS_OF = 4
# The readout compares the 6 months before a switch with the months after it.
PILOT_HISTORY_MONTHS = 6
PILOT_MAX_PAIRS = 8
# The billing system writes a scheduled switch this long before it takes effect.
SCHEDULED_AHEAD = timedelta(days=14)


@dataclass(frozen=True)
class Assignment:
    assignment_id: str
    account_id: str
    price_model_id: str
    effective_from: datetime
    cohort: str

    def row(self) -> dict[str, str | None]:
        return {
            "assignment_id": self.assignment_id,
            "account_id": self.account_id,
            "price_model_id": self.price_model_id,
            "effective_from": ts(self.effective_from),
            "effective_to": None,
            "cohort": self.cohort,
            "updated_at": ts(self.effective_from - SCHEDULED_AHEAD),
        }


def switch_month(start: datetime, months: int) -> datetime:
    """The first instant of the month the pilot starts in."""
    return add_months(start, months - 1 - PILOT_MONTHS_BEFORE_AS_OF)


def renewal_on_or_after(subscription: Subscription, moment: datetime) -> datetime:
    """The subscription's first period boundary on or after `moment` (clamped from the anchor)."""
    index = 0
    while add_months(subscription.started_at, index * subscription.interval_months) < moment:
        index += 1
    return add_months(subscription.started_at, index * subscription.interval_months)


def build_assignments(
    subscriptions: list[Subscription], start: datetime, months: int, seed: int
) -> list[Assignment]:
    """The pilot and its control cohort, in assignment id order; empty when the period is too
    short for a pilot with history before it and months after it."""
    if months - 1 - PILOT_MONTHS_BEFORE_AS_OF < PILOT_HISTORY_MONTHS:
        return []
    month = switch_month(start, months)
    history_from = add_months(month, -PILOT_HISTORY_MONTHS)
    candidates: list[tuple[int, str, datetime]] = []
    for subscription in subscriptions:
        account = subscription.account
        if account.segment != PILOT_SEGMENT or subscription.interval_months != 1:
            continue
        # the price book is in USD: a pilot's invoices under the proposal are its USD amounts
        if account.currency != PILOT_CURRENCY:
            continue
        if subscription.started_at >= history_from:
            continue
        switch_at = renewal_on_or_after(subscription, month)
        if subscription.canceled_at is not None and subscription.canceled_at <= switch_at:
            continue
        seats = sum(
            event.seats_delta
            for event in subscription.events
            if not event.voided and event.effective_at < switch_at
        )
        if seats > 0:
            candidates.append((seats, account.account_id, switch_at))
    candidates.sort()
    rng = random.Random(f"{seed}:pilot")
    pairs = [candidates[index : index + 2] for index in range(0, len(candidates) - 1, 2)]
    rng.shuffle(pairs)
    chosen: list[tuple[str, str, datetime]] = []
    for pair in pairs[:PILOT_MAX_PAIRS]:
        pilot, control = pair if rng.random() < 0.5 else pair[::-1]
        chosen.append(("pilot", pilot[1], pilot[2]))
        chosen.append(("control", control[1], control[2]))
    chosen.sort(key=lambda choice: (choice[1], choice[0]))
    return [
        Assignment(
            assignment_id=f"pma_{number:05d}",
            account_id=account_id,
            price_model_id=PILOT_PRICE_MODEL if cohort == "pilot" else CONTROL_PRICE_MODEL,
            effective_from=switch_at,
            cohort=cohort,
        )
        for number, (cohort, account_id, switch_at) in enumerate(chosen, start=1)
    ]
