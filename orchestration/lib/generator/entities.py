"""Accounts, plans, subscriptions and the seat ledger: small exports, built in plain Python.

Each account draws from its own `random.Random` stream (seeded by a string, which Python hashes
with SHA-512, so PYTHONHASHSEED cannot change it): adding an account does not reshuffle the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from orchestration.lib.contract import SEAT_SIGN
from orchestration.lib.generator.calendar import add_months, month_start, period_start

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_WEIGHTS = (0.5, 0.35, 0.15)
# The segment whose customers hand work to agents over the period: the story the warehouse finds.
AUTOMATING_SEGMENT = "mid_market"
INITIAL_SEATS = {"smb": (2, 9), "mid_market": (10, 32), "enterprise": (30, 90)}
SEAT_EVENTS_PER_MONTH = {"smb": 0.7, "mid_market": 1.8, "enterprise": 3.0}
CHURN_PROBABILITY = {"smb": 0.16, "mid_market": 0.12, "enterprise": 0.05}

# Billing country per currency. The tax rates are the generator's own simplification.
COUNTRIES = {"USD": ("US", "US", "US", "CA", "AU", "SG"), "EUR": ("DE", "FR", "NL"), "GBP": ("GB",)}
TAX_RATES = {
    "DE": Decimal("0.19"),
    "FR": Decimal("0.20"),
    "NL": Decimal("0.21"),
    "GB": Decimal("0.20"),
}

NAME_FIRST = (
    "Acme",
    "Blue Harbor",
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Black Mesa",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Pied Piper",
    "Dunder",
    "Sterling",
    "Bluth",
    "Prestige",
)
NAME_SECOND = ("Labs", "Systems", "Logistics", "Health", "Retail", "Energy", "Media", "Finance")
NAME_SUFFIX = {
    "US": "Inc.",
    "CA": "Ltd.",
    "AU": "Pty Ltd",
    "SG": "Pte. Ltd.",
    "DE": "GmbH",
    "FR": "SAS",
    "NL": "B.V.",
    "GB": "Ltd",
}


@dataclass(frozen=True)
class PlanPrice:
    plan_id: str
    plan_name: str
    currency: str
    billing_interval: str
    seat_unit_amount: Decimal
    platform_fee_amount: Decimal | None
    effective_from: date

    @property
    def interval_months(self) -> int:
        return 12 if self.billing_interval == "year" else 1


@dataclass
class Account:
    index: int
    account_id: str
    account_name: str
    segment: str
    country: str
    currency: str
    created_at: datetime
    updated_at: datetime
    low_utilization: bool
    power_user: bool
    expanding: bool
    renamed_to: tuple[str, datetime] | None = None


@dataclass
class Subscription:
    subscription_id: str
    account: Account
    plan_id: str
    interval_months: int
    started_at: datetime
    canceled_at: datetime | None
    past_due_since: datetime | None = None
    events: list[SeatEvent] = field(default_factory=list)

    def period_starts(self, end: datetime) -> list[datetime]:
        """Starts of every period that starts before `end` (and before cancellation)."""
        starts, index = [], 0
        while True:
            start = period_start(self.started_at, self.interval_months, index)
            if start >= end or (self.canceled_at is not None and start >= self.canceled_at):
                return starts
            starts.append(start)
            index += 1


@dataclass
class SeatEvent:
    event_id: str
    account_id: str
    subscription_id: str
    event_type: str
    quantity: int
    seat_role: str | None
    user_id: str | None
    effective_at: datetime
    recorded_at: datetime
    corrects_event_id: str | None
    source: str
    voided: bool = False

    @property
    def seats_delta(self) -> int:
        return SEAT_SIGN.get(self.event_type, 0) * self.quantity


def build_plans(start: datetime, months: int) -> list[PlanPrice]:
    """The per-seat price book: per currency, monthly and annual plans, one price increase."""
    legacy = date(2020, 1, 1)
    # One price increase, halfway through the data, so the warehouse sees old and new prices.
    increase = add_months(start, max(1, months // 2)).date()
    rows = []
    book = {
        # plan: (name, interval, USD, EUR, GBP seat price, platform fee USD/EUR/GBP or None)
        "starter": ("Starter", "month", ("50", "45", "39"), None),
        "team": ("Team", "month", ("89", "82", "72"), None),
        "business": ("Business", "month", ("129", "119", "105"), ("250", "230", "200")),
        "enterprise": ("Enterprise", "year", ("1800", "1650", "1450"), ("6000", "5500", "4800")),
    }
    for plan, (name, interval, prices, fees) in book.items():
        for position, currency in enumerate(("USD", "EUR", "GBP")):
            fee = Decimal(fees[position]) if fees else None
            plan_id = f"{plan}_{currency.lower()}"
            rows.append(
                PlanPrice(
                    plan_id,
                    f"{name} ({currency})",
                    currency,
                    interval,
                    Decimal(prices[position]),
                    fee,
                    legacy,
                )
            )
    rows.append(PlanPrice("team_usd", "Team (USD)", "USD", "month", Decimal("99"), None, increase))
    return rows


def price_in_effect(plans: list[PlanPrice], plan_id: str, at: datetime) -> PlanPrice:
    """The plan row with the latest effective_from on or before the period start's date."""
    rows = [row for row in plans if row.plan_id == plan_id and row.effective_from <= at.date()]
    return max(rows, key=lambda row: row.effective_from)


def _pick_plan(segment: str, currency: str, rng: random.Random) -> str:
    options = {
        "smb": ("starter", "starter", "team"),
        "mid_market": ("team", "business", "business"),
        "enterprise": ("business", "enterprise", "enterprise"),
    }[segment]
    return f"{rng.choice(options)}_{currency.lower()}"


def _anchor(month: datetime, rng: random.Random, end: datetime) -> datetime:
    """A subscription start in `month`; about one in eight on the 29th-31st to exercise clamping."""
    days_in_month = (add_months(month, 1) - month).days
    if rng.random() < 0.125:
        day = rng.randint(min(29, days_in_month), days_in_month)
    else:
        day = rng.randint(1, 28)
    moment = month.replace(day=day) + timedelta(seconds=rng.randint(7 * 3600, 19 * 3600))
    return min(moment, end - timedelta(days=20))


def build_accounts(
    count: int, start: datetime, months: int, seed: int
) -> tuple[list[Account], list[datetime]]:
    """Accounts and their subscription start instants (monthly signup cohorts)."""
    end = month_start(start.strftime("%Y-%m"), months)
    accounts, anchors = [], []
    rng_traits = random.Random(f"{seed}:traits")
    power_indexes = set(rng_traits.sample(range(count), max(2, count // 40)))
    for index in range(count):
        rng = random.Random(f"{seed}:account:{index}")
        segment = rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0]
        roll = rng.random()
        currency = "EUR" if roll < 0.09 else "GBP" if roll < 0.15 else "USD"
        country = rng.choice(COUNTRIES[currency])
        # A quarter of the accounts exist from the first month; the rest sign up month by month.
        cohort = 0 if rng.random() < 0.25 else rng.randint(0, max(0, months - 3))
        anchor = _anchor(add_months(start, cohort), rng, end)
        created_at = max(
            start, anchor - timedelta(days=rng.randint(0, 12), seconds=rng.randint(0, 40000))
        )
        name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {NAME_SUFFIX[country]}"
        if index % 17 == 5:
            name = f"{rng.choice(NAME_FIRST)}, {rng.choice(NAME_FIRST)} & Partners"  # CSV quoting
        if index % 23 == 7:
            name = f'The "{rng.choice(NAME_SECOND)}" Company'  # quotes inside a quoted field
        account = Account(
            index=index,
            account_id=f"acc_{index + 1:05d}",
            account_name=name,
            segment=segment,
            country=country,
            currency=currency,
            created_at=created_at,
            updated_at=created_at,
            low_utilization=rng.random() < 0.18,
            power_user=index in power_indexes,
            expanding=segment != AUTOMATING_SEGMENT and rng.random() < 0.25,
        )
        rename_at = anchor + timedelta(days=rng.randint(30, 400))
        if rng.random() < 0.06 and rename_at < end:
            account.renamed_to = (f"{name.split(' ')[0]} Group", rename_at)
        accounts.append(account)
        anchors.append(anchor)
    return accounts, anchors
