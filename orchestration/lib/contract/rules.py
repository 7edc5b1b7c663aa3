"""Every rule of the export contract that is more than one column's value, as data.

The loader (`orchestration.lib.loader`) compiles these declarations into the SQL that quarantines
a row, and `orchestration.lib.expectations` compiles the same declarations into the GX suites that
check what was loaded: a rule is written here once and nowhere else.

Conditions are SQL expressions over `this_row` (the row being judged, typed as the raw table
stores it) and, for a rule that looks another row up, `referenced` (the row it names). Both
compilers bind those two names; nothing else may appear in them.

A value rule (required, allowed values, minimum, ...) is an attribute of its `Column` in
`exports.py`; `value_rules()` lists them under the names the loader quarantines them by.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from orchestration.lib.contract.exports import EXPORTS, Column, Export

# --------------------------------------------------------------------------- value rules

# Rule kinds of one value, in the order the loader checks them; the first broken one names the
# quarantined row. The quarantine names a value rule `<kind>:<column>`, e.g. `minimum:quantity`.
VALUE_RULE_KINDS = {
    "required": "the value must not be empty",
    "type": "the value must parse as the column's type",
    "timestamp_without_offset": "a timestamp must carry an offset or Z",
    "allowed_values": "the value must be one of the listed values",
    "minimum": "the value must not be below the column's minimum",
    "too_many_decimals": "money has at most 4 decimals, decimals at most 8",
    "pattern": "the value must match the column's pattern (ISO codes)",
}
# Kinds that the raw table's column types enforce once a row is stored: a value that broke them
# cannot be in the table, so the GX suites check the stored types instead of the values.
STORAGE_ENFORCED_KINDS = ("type", "timestamp_without_offset", "too_many_decimals")
DECIMAL_SCALES = {"money": 4, "decimal": 8}


@dataclass(frozen=True)
class ValueRule:
    kind: str  # a key of VALUE_RULE_KINDS
    export: str
    column: Column

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.column.name}"

    @property
    def description(self) -> str:
        return f"{self.column.name}: {VALUE_RULE_KINDS[self.kind]}"


def value_rules(export: Export) -> Iterator[ValueRule]:
    """The value rules the contract puts on each column of an export, in checking order."""
    for column in export.columns:
        kinds = []
        if column.required:
            kinds.append("required")
        if column.type != "string":
            kinds.append("type")
        if column.type == "timestamp":
            kinds.append("timestamp_without_offset")
        if column.allowed:
            kinds.append("allowed_values")
        if column.minimum is not None or column.exclusive_minimum is not None:
            kinds.append("minimum")
        if column.type in DECIMAL_SCALES:
            kinds.append("too_many_decimals")
        if column.pattern:
            kinds.append("pattern")
        for kind in kinds:
            yield ValueRule(kind, export.name, column)


# --------------------------------------------------------------------------- parse and time


@dataclass(frozen=True)
class ParseRule:
    """A line or row of a file that cannot be parsed into the export's columns at all."""

    name: str
    description: str
    # Why no expectation can see it: the row never reaches a table.
    not_an_expectation_because: str


MALFORMED_ROW = ParseRule(
    "malformed_row",
    "a line that is not a JSON object, or a CSV row with the wrong number of fields",
    "a row that cannot be parsed never reaches the raw table; the load report counts it",
)


@dataclass(frozen=True)
class PlausibleTimeRule:
    """Plausible times: when something happened must lie in a plausible window.

    The window runs from `settings.plausible_since()` to the refresh's start plus
    `settings.plausible_ahead()`, both settings; times that may lie ahead are not listed.
    """

    name: str
    description: str
    columns: tuple[str, ...]

    def columns_of(self, export: Export) -> list[str]:
        return [column.name for column in export.columns if column.name in self.columns]


IMPLAUSIBLE_TIME = PlausibleTimeRule(
    "implausible_time",
    "a time at which something happened lies after the refresh's start plus the allowed lead, "
    "or before the earliest plausible time",
    (
        "occurred_at",
        "effective_at",
        "recorded_at",
        "issued_at",
        "created_at",
        "updated_at",
        "started_at",
        "rate_date",
    ),
)

# --------------------------------------------------------------------------- cross-row rules


@dataclass(frozen=True)
class RowRule:
    """A rule between columns of one row: `broken` is true when the row breaks it."""

    name: str
    export: str
    description: str
    broken: str  # SQL over this_row
    columns: tuple[str, ...]  # the columns it reads, shown with a failing row


@dataclass(frozen=True)
class Lookup:
    """How a row finds the row it names: in another export, or in its own."""

    export: str
    on: tuple[tuple[str, str], ...]  # (column of this_row, column of the referenced export)
    latest: bool = False  # a snapshot's latest version only (who owns it *now*)
    # Rows of the file being loaded may be named too (a correction of an event in its file).
    same_file: bool = False
    # A table the warehouse writes from the project's own files instead of an export (the price
    # book's models): `export` is then only the lookup's name.
    relation: str | None = None


@dataclass(frozen=True)
class ReferenceRule:
    """A rule on the row that this row names (a foreign key, an owner, a currency).

    Judged only where `applies_to` holds. `broken_when="missing"`: broken when no referenced row
    meets `match`; `"found"`: broken when one does.
    """

    name: str
    export: str
    description: str
    lookup: Lookup
    broken_when: Literal["missing", "found"]
    applies_to: str  # SQL over this_row
    columns: tuple[str, ...]
    match: str = "true"  # SQL over this_row and referenced


# How each event type moves a subscription's billable seats (seat_events); a
# correction moves none itself: it voids the event it names. The loader replays it, and every
# refresh writes it into the warehouse (SEAT_SIGN_TABLE) for dbt's staging to join: one definition.
SEAT_SIGN_TABLE = "entitlements.seat_event_signs"
SEAT_SIGN_DESCRIPTION = (
    "How each seat event type moves billable seats (+1, -1 or 0 per unit of quantity), written by "
    "every refresh from the export contract (orchestration/lib/contract/rules.py SEAT_SIGN), so "
    "the sign is declared once, as data."
)
SEAT_SIGN = {
    "seat_added": 1,
    "seat_reactivated": 1,
    "seat_removed": -1,
    "seat_suspended": -1,
    "seat_reassigned": 0,
    "correction": 0,
}


@dataclass(frozen=True)
class SeatBalanceRule:
    """Billable seats never go below zero (seat_events).

    Replay each subscription's events in `order_by`; an event whose own application would take
    the balance below zero is quarantined and the replay goes on without it. Events loaded by an
    earlier refresh stay: a new event that would make a loaded later one go below zero is itself
    quarantined. A `voiding_type` event voids the event its `voids_column` names, from that
    event's effective time on.
    """

    name: str
    export: str
    description: str
    partition_by: str
    order_by: tuple[str, ...]
    sign: dict[str, int] = field(default_factory=lambda: dict(SEAT_SIGN))
    type_column: str = "event_type"
    quantity_column: str = "quantity"
    voiding_type: str = "correction"
    voids_column: str = "corrects_event_id"
    columns: tuple[str, ...] = ("event_id", "subscription_id", "event_type", "quantity")


# The price book is the dbt project's seeds, not an export: every refresh writes its model ids
# into this table (from PRICE_BOOK_MODELS_FILE under the dbt project in force), so the loader and
# the expectations can look a row's model up as they look an account up.
PRICE_BOOK_MODELS_TABLE = "billing.price_book_models"
PRICE_BOOK_MODELS_FILE = ("seeds", "price_book", "price_models.csv")


@dataclass(frozen=True)
class PeriodOverlapRule:
    """Periods of one `partition_by` never overlap (price_model_assignments).

    A period runs from `starts` (inclusive) to `ends` (exclusive; empty: open-ended). Only the
    latest version of each key counts (a snapshot: a newer version that ends an assignment makes
    room for the next). Of an overlapping pair, the later-starting one is quarantined (equal
    starts: the greater key); a row loaded by an earlier refresh stays, so a new row that
    overlaps one is quarantined itself. A rejected row does not make room: the loader judges
    again until no row is blamed (`loader.cross_row.blame_overlaps`).
    """

    name: str
    export: str
    description: str
    partition_by: str
    starts: str
    ends: str
    columns: tuple[str, ...]


ACCOUNTS = Lookup("accounts", (("account_id", "account_id"),), latest=True)
SUBSCRIPTIONS = Lookup("subscriptions", (("subscription_id", "subscription_id"),), latest=True)
PLANS = Lookup("plans", (("plan_id", "plan_id"),))
INVOICES = Lookup("invoices", (("invoice_id", "invoice_id"),))
PRICE_MODELS = Lookup(
    "price_models", (("price_model_id", "price_model_id"),), relation=PRICE_BOOK_MODELS_TABLE
)
CORRECTED_EVENT = Lookup(
    "seat_events",
    (("corrects_event_id", "event_id"), ("subscription_id", "subscription_id")),
    same_file=True,
)
IS_CORRECTION = "this_row.event_type = 'correction'"
RECORDED_EARLIER = "referenced.recorded_at <= this_row.recorded_at"


def _unknown(export: str, name: str, lookup: Lookup, what: str) -> ReferenceRule:
    column = lookup.on[0][0]
    return ReferenceRule(
        name,
        export,
        f"{column} must exist in {what}",
        lookup,
        "missing",
        f"this_row.{column} is not null",
        (column,),
    )


CrossRowRule = RowRule | ReferenceRule | SeatBalanceRule | PeriodOverlapRule

CROSS_ROW: tuple[CrossRowRule, ...] = (
    _unknown("subscriptions", "unknown_account", ACCOUNTS, "accounts"),
    _unknown("subscriptions", "unknown_plan", PLANS, "plans"),
    _unknown("seat_events", "unknown_account", ACCOUNTS, "accounts"),
    _unknown("seat_events", "unknown_subscription", SUBSCRIPTIONS, "subscriptions"),
    ReferenceRule(
        "subscription_of_other_account",
        "seat_events",
        "the subscription must belong to the row's account",
        SUBSCRIPTIONS,
        "found",
        "this_row.account_id is not null",
        ("subscription_id", "account_id"),
        match="referenced.account_id is distinct from this_row.account_id",
    ),
    RowRule(
        "corrects_event_id_required",
        "seat_events",
        "a correction names the event it voids",
        f"{IS_CORRECTION} and this_row.corrects_event_id is null",
        ("event_type", "corrects_event_id"),
    ),
    RowRule(
        "corrects_event_id_not_allowed",
        "seat_events",
        "only a correction names corrects_event_id",
        "this_row.event_type <> 'correction' and this_row.corrects_event_id is not null",
        ("event_type", "corrects_event_id"),
    ),
    ReferenceRule(
        "corrected_event_unknown",
        "seat_events",
        "a correction must name an earlier event of the same subscription",
        CORRECTED_EVENT,
        "missing",
        f"{IS_CORRECTION} and this_row.corrects_event_id is not null",
        ("event_id", "subscription_id", "corrects_event_id"),
        match=RECORDED_EARLIER,
    ),
    ReferenceRule(
        "correction_of_correction",
        "seat_events",
        "a correction of a correction is rejected",
        CORRECTED_EVENT,
        "found",
        IS_CORRECTION,
        ("event_id", "corrects_event_id"),
        match=f"{RECORDED_EARLIER} and referenced.event_type = 'correction'",
    ),
    SeatBalanceRule(
        "seats_below_zero",
        "seat_events",
        "the event would take the subscription's billable seats below zero",
        partition_by="subscription_id",
        order_by=("effective_at", "recorded_at", "event_id"),
    ),
    _unknown("usage_events", "unknown_account", ACCOUNTS, "accounts"),
    RowRule(
        "user_id_required_for_human",
        "usage_events",
        "a human usage event names its user_id",
        "this_row.actor_type = 'human' and this_row.user_id is null",
        ("actor_type", "user_id"),
    ),
    RowRule(
        "agent_id_required_for_agent",
        "usage_events",
        "an agent usage event names its agent_id and no user_id",
        "this_row.actor_type = 'agent'"
        " and (this_row.agent_id is null or this_row.user_id is not null)",
        ("actor_type", "agent_id", "user_id"),
    ),
    _unknown("invoices", "unknown_account", ACCOUNTS, "accounts"),
    ReferenceRule(
        "currency_differs_from_account",
        "invoices",
        "an invoice's currency must equal its account's currency",
        ACCOUNTS,
        "found",
        "this_row.currency is not null",
        ("account_id", "currency"),
        match="referenced.currency is distinct from this_row.currency",
    ),
    RowRule(
        "period_end_not_after_start",
        "invoices",
        "period_end must be later than period_start",
        "this_row.period_end <= this_row.period_start",
        ("period_start", "period_end"),
    ),
    _unknown("invoice_lines", "unknown_invoice", INVOICES, "invoices"),
    _unknown("price_model_assignments", "unknown_account", ACCOUNTS, "accounts"),
    _unknown(
        "price_model_assignments", "unknown_price_model", PRICE_MODELS, "the price book's models"
    ),
    RowRule(
        "effective_to_not_after_from",
        "price_model_assignments",
        "effective_to, when given, must be later than effective_from",
        "this_row.effective_to <= this_row.effective_from",
        ("effective_from", "effective_to"),
    ),
    PeriodOverlapRule(
        "overlapping_assignment",
        "price_model_assignments",
        "the assignment's period overlaps an earlier-starting (or already loaded) assignment of"
        " the same account",
        partition_by="account_id",
        starts="effective_from",
        ends="effective_to",
        columns=("assignment_id", "account_id", "effective_from", "effective_to"),
    ),
)

# Rule name -> what it asks, for documentation and tests (one name may serve several exports).
CROSS_ROW_RULES = {rule.name: rule.description for rule in CROSS_ROW}


def cross_row_rules(export: str) -> list[CrossRowRule]:
    return [rule for rule in CROSS_ROW if rule.export == export]


Rule = ValueRule | PlausibleTimeRule | CrossRowRule


def rules_of(export: str) -> list[Rule]:
    """Every rule a row of the export is judged by after it parsed, in checking order."""
    spec = EXPORTS[export]
    rules: list[Rule] = list(value_rules(spec))
    if IMPLAUSIBLE_TIME.columns_of(spec):
        rules.append(IMPLAUSIBLE_TIME)
    return rules + cross_row_rules(export)
