"""Subscriptions and their seat ledger: adds, removals, suspensions, reassignments, corrections.

The ledger is generated in effective-time order while tracking billable seats, so the balance
never goes below one seat; every voided event is a `seat_added` voided inside the period it took
effect in, before that period's invoice, so no voided event was ever invoiced as a proration.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from orchestration.lib.generator.calendar import period_start
from orchestration.lib.generator.entities import (
    AUTOMATING_SEGMENT,
    CHURN_PROBABILITY,
    INITIAL_SEATS,
    SEAT_EVENTS_PER_MONTH,
    Account,
    PlanPrice,
    SeatEvent,
    Subscription,
    _pick_plan,
)


def _period_bounds(started_at: datetime, interval: int, at: datetime) -> tuple[datetime, datetime]:
    """The billing period [start, end) that holds `at`."""
    # Start just below the calendar estimate instead of walking from the anchor every time.
    months = (at.year - started_at.year) * 12 + at.month - started_at.month
    index = max(0, months // interval - 1)
    while index > 0 and period_start(started_at, interval, index) > at:
        index -= 1
    while period_start(started_at, interval, index + 1) <= at:
        index += 1
    return period_start(started_at, interval, index), period_start(started_at, interval, index + 1)


def build_subscription(
    account: Account,
    anchor: datetime,
    plans: list[PlanPrice],
    start: datetime,
    end: datetime,
    seed: int,
) -> Subscription:
    rng = random.Random(f"{seed}:subscription:{account.index}")
    plan_id = _pick_plan(account.segment, account.currency, rng)
    interval = next(plan for plan in plans if plan.plan_id == plan_id).interval_months
    subscription = Subscription(
        subscription_id=f"sub_{account.index + 1:05d}",
        account=account,
        plan_id=plan_id,
        interval_months=interval,
        started_at=anchor,
        canceled_at=None,
    )
    starts = subscription.period_starts(end)
    churn = CHURN_PROBABILITY[account.segment]
    if account.segment == AUTOMATING_SEGMENT:
        churn *= 1.5
    if interval == 1 and len(starts) >= 5 and rng.random() < churn:
        final = rng.randint(3, len(starts) - 1)
        final_start, final_end = starts[final], period_start(anchor, interval, final + 1)
        fraction = rng.uniform(0.2, 0.8)
        canceled_at = final_start + timedelta(
            seconds=int((final_end - final_start).total_seconds() * fraction)
        )
        if canceled_at < end:
            subscription.canceled_at = canceled_at
    elif rng.random() < 0.05 and len(starts) >= 2:
        subscription.past_due_since = starts[-1] + timedelta(days=rng.randint(2, 9))
        if subscription.past_due_since >= end:
            subscription.past_due_since = None
    subscription.events = _seat_ledger(subscription, start, end, rng)
    return subscription


def _seat_ledger(
    subscription: Subscription, start: datetime, end: datetime, rng: random.Random
) -> list[SeatEvent]:
    account = subscription.account
    anchor, interval = subscription.started_at, subscription.interval_months
    # No seat changes in a canceled subscription's final period (its invoice is the last one).
    horizon = end
    if subscription.canceled_at is not None:
        horizon = _period_bounds(anchor, interval, subscription.canceled_at)[0]
    events: list[SeatEvent] = []
    user_counter = 0

    def next_user() -> str:
        nonlocal user_counter
        user_counter += 1
        return f"u_{account.index + 1:05d}_{user_counter:04d}"

    def add_event(event_type, quantity, effective_at, recorded_at, **extra) -> SeatEvent:
        event = SeatEvent(
            event_id=f"se_{account.index + 1:05d}_{len(events) + 1:04d}",
            account_id=account.account_id,
            subscription_id=subscription.subscription_id,
            event_type=event_type,
            quantity=quantity,
            seat_role=extra.get("seat_role"),
            user_id=extra.get("user_id"),
            effective_at=effective_at,
            recorded_at=recorded_at,
            corrects_event_id=extra.get("corrects_event_id"),
            source=extra.get("source", "app"),
        )
        events.append(event)
        return event

    low, high = INITIAL_SEATS[account.segment]
    seats = rng.randint(low, high)
    viewers = seats // 6
    # The initial seats take effect exactly at started_at: the first invoice's regular charge.
    add_event(
        "seat_added", 1, anchor, anchor, seat_role="admin", user_id=next_user(), source="sales"
    )
    if seats - 1 - viewers > 0:
        add_event(
            "seat_added", seats - 1 - viewers, anchor, anchor, seat_role="member", source="sales"
        )
    if viewers:
        add_event("seat_added", viewers, anchor, anchor, seat_role="viewer", source="sales")
    user_counter = seats
    ceiling = max(4, seats * 3)
    suspended = 0
    rate_per_day = SEAT_EVENTS_PER_MONTH[account.segment] / 30.4
    cursor = anchor
    total_seconds = (end - start).total_seconds()
    while True:
        cursor += timedelta(seconds=int(rng.expovariate(rate_per_day) * 86400) + 60)
        if cursor >= horizon - timedelta(days=1):
            break
        progress = (cursor - start).total_seconds() / total_seconds
        weights = {
            "seat_added": 0.34,
            "seat_removed": 0.14,
            "seat_suspended": 0.08,
            "seat_reactivated": 0.12 if suspended else 0.0,
            "seat_reassigned": 0.22,
        }
        if account.expanding:
            weights.update(seat_added=0.55, seat_removed=0.05)
        if account.segment == AUTOMATING_SEGMENT:
            # Agents take over the work: adds dry up and removals grow as the period goes on.
            weights.update(
                seat_added=0.34 * (1 - 0.8 * progress), seat_removed=0.12 + 0.45 * progress
            )
        if seats <= 1:
            weights.update(seat_removed=0.0, seat_suspended=0.0)
        if seats >= ceiling:
            weights.update(seat_added=0.0)
        kinds = list(weights)
        event_type = rng.choices(kinds, [weights[kind] for kind in kinds])[0]
        period_from, period_to = _period_bounds(anchor, interval, cursor)
        effective_at = cursor if cursor != period_from else cursor + timedelta(seconds=1)
        on_boundary = False
        if (
            event_type in ("seat_added", "seat_removed")
            and rng.random() < 0.03
            and period_to < horizon
        ):
            # Scheduled for the next period start: billed by that invoice's quantity, no proration.
            effective_at, on_boundary = period_to, True
        if on_boundary:
            recorded_at = effective_at - timedelta(hours=rng.randint(1, 48))
        elif rng.random() < 0.1 and effective_at + timedelta(days=6) < min(period_to, end):
            # Back-dated: recorded days later, still inside the billing period it belongs to.
            recorded_at = effective_at + timedelta(
                days=rng.randint(1, 5), seconds=rng.randint(0, 9999)
            )
        else:
            recorded_at = effective_at + timedelta(seconds=rng.randint(1, 300))
            recorded_at = min(recorded_at, max(effective_at, period_to - timedelta(seconds=1)))
        if event_type == "seat_added":
            quantity = rng.randint(1, max(1, seats // 8))
            single = quantity == 1
            event = add_event(
                "seat_added",
                quantity,
                effective_at,
                recorded_at,
                seat_role="viewer" if rng.random() < 0.2 else "member",
                user_id=next_user() if single else None,
                source=rng.choice(("app", "app", "admin", "api", "sales")),
            )
            seats += quantity
            correction_at = recorded_at + timedelta(seconds=rng.randint(600, 2 * 86400))
            if (
                not on_boundary
                and rng.random() < 0.08
                and correction_at < period_to - timedelta(minutes=5)
                and correction_at < horizon
            ):
                # Added by mistake, voided before the period's invoice; sometimes re-added right.
                add_event(
                    "correction",
                    quantity,
                    correction_at,
                    correction_at,
                    corrects_event_id=event.event_id,
                    source="admin",
                )
                event.voided = True
                seats -= quantity
                cursor = correction_at
                if quantity > 1 and rng.random() < 0.5:
                    replacement_at = correction_at + timedelta(minutes=2)
                    add_event(
                        "seat_added",
                        quantity - 1,
                        replacement_at,
                        replacement_at,
                        seat_role="member",
                        source="admin",
                    )
                    seats += quantity - 1
                    cursor = replacement_at
        elif event_type == "seat_removed":
            quantity = rng.randint(1, max(1, min(seats - 1, seats // 6)))
            add_event(
                "seat_removed",
                quantity,
                effective_at,
                recorded_at,
                source=rng.choice(("app", "admin")),
            )
            seats -= quantity
        elif event_type == "seat_suspended":
            add_event("seat_suspended", 1, effective_at, recorded_at, source="admin")
            seats -= 1
            suspended += 1
        elif event_type == "seat_reactivated":
            quantity = rng.randint(1, suspended)
            add_event("seat_reactivated", quantity, effective_at, recorded_at, source="admin")
            seats += quantity
            suspended -= quantity
        else:
            add_event(
                "seat_reassigned",
                1,
                effective_at,
                recorded_at,
                seat_role="member",
                user_id=next_user(),
                source="app",
            )
        cursor = max(cursor, effective_at)
    return events


def billable_seats(events: list[SeatEvent], at: datetime) -> int:
    """Seats billable at the instant `at`: non-voided events effective at or before it."""
    return sum(
        event.seats_delta for event in events if not event.voided and event.effective_at <= at
    )
