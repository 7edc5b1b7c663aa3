"""Cross-row rules: the contract's declarations (`contract.rules`) compiled for one file's rows.

Row and reference rules become SQL conditions over the file's typed rows (`this_row`), with one
lookup per referenced export. The seat balance is a replay, event after event, and is kept
small: only the subscriptions the file touches, and only their seat events. Overlapping periods
(price model assignments) are judged between the latest versions of the file's and the loaded
rows, only of the accounts the file touches.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import duckdb

from orchestration.lib.contract import Export
from orchestration.lib.contract.rules import (
    PeriodOverlapRule,
    ReferenceRule,
    RowRule,
    SeatBalanceRule,
    cross_row_rules,
)
from orchestration.lib.contract.sql import (
    lookup_columns,
    lookup_name,
    lookup_sql,
    quote,
    rule_broken_sql,
)

# The file's rows that passed every value rule: what a same-file lookup may name.
_VALUE_CLEAN_ROWS = "typed where len(__value_rules) = 0"


def row_rules_sql(export: Export) -> tuple[list[str], list[tuple[str, str]]]:
    """(lookup CTEs, [(rule name, broken condition over this_row)]) of the export's rules."""
    rules = [
        rule for rule in cross_row_rules(export.name) if isinstance(rule, RowRule | ReferenceRule)
    ]
    references = [rule for rule in rules if isinstance(rule, ReferenceRule)]
    lookups = list(dict.fromkeys(rule.lookup for rule in references))
    ctes = [
        f"""{lookup_name(lookup)} as (
            {
            lookup_sql(
                lookup,
                lookup_columns(lookup, references),
                _VALUE_CLEAN_ROWS if lookup.same_file else None,
            )
        }
        )"""
        for lookup in lookups
    ]
    return ctes, [(rule.name, rule_broken_sql(rule)) for rule in rules]


# --------------------------------------------------------------------------- seat balance


@dataclass
class SeatEvent:
    """One event of a subscription's replay; `row_number` None: loaded by an earlier refresh."""

    row_number: int | None
    event_id: str
    delta: int  # seats the event itself moves (sign of its type times quantity)
    voids: str | None  # the event it voids (a correction), if any


def blame_below_zero(conn: duckdb.DuckDBPyConnection, export: Export) -> int:
    """Append the seat-balance rule to the file's new events that the replay blames.

    Works on `_checked` (the file's rows and the rules they broke so far); returns how many
    events were blamed.
    """
    rule = next((r for r in cross_row_rules(export.name) if isinstance(r, SeatBalanceRule)), None)
    if rule is None:
        return 0
    by_subscription: dict[str, list[SeatEvent]] = defaultdict(list)
    for partition, row_number, event_id, event_type, quantity, voids in conn.execute(
        _replay_sql(rule, export)
    ).fetchall():
        delta = rule.sign.get(event_type, 0) * (quantity or 0)
        voided = voids if event_type == rule.voiding_type else None
        by_subscription[partition].append(SeatEvent(row_number, event_id, delta, voided))
    blamed = [row for events in by_subscription.values() for row in replay_blame(events)]
    if blamed:
        conn.execute(
            """update _checked
            set __rules = list_append(__rules, ?)
            where __row_number in (select unnest(?::bigint[]))""",
            [rule.name, blamed],
        )
    return len(blamed)


def _replay_sql(rule: SeatBalanceRule, export: Export) -> str:
    """The loaded and the new events of every subscription the file touches, in replay order.

    New events are the file's rows that broke no rule so far and are not duplicate deliveries
    (of a loaded event, or of an earlier row of the file).
    """
    key = quote(export.key[0])
    columns = [
        rule.partition_by,
        export.key[0],
        rule.type_column,
        rule.quantity_column,
        rule.voids_column,
        *rule.order_by,
    ]
    selected = ", ".join(dict.fromkeys(quote(column) for column in columns))
    order = ", ".join(quote(column) for column in rule.order_by)
    partition = quote(rule.partition_by)
    return f"""with
        candidates as (
            select __row_number, {selected}
            from _checked
            where len(__rules) = 0
                and not exists (
                    select 1 from {export.relation} as loaded
                    where loaded.{key} = _checked.{key}
                )
            qualify row_number() over (partition by {key} order by __row_number) = 1
        ),
        events as (
            select null::bigint as __row_number, {selected}
            from {export.relation}
            where {partition} in (select {partition} from candidates)
            union all
            select * from candidates
        )
        select
            {partition},
            __row_number,
            {key},
            {quote(rule.type_column)},
            {quote(rule.quantity_column)},
            {quote(rule.voids_column)}
        from events
        order by {partition}, {order}, __row_number nulls first"""


def replay_blame(events: list[SeatEvent]) -> list[int]:
    """Row numbers of the new events the replay quarantines, for one subscription's events.

    Events come in replay order. Loaded events stay. A new event that moves seats up (an add,
    a reactivation, a correction voiding a removal) is always kept. One that moves them down
    (a removal, a suspension, a correction voiding an add) is blamed when, with it, the balance
    is below zero at its own place (for a correction: anywhere from the voided event on, as the
    void reaches back), or at a later loaded event whose balance it takes below zero. Events
    decided earlier in the replay count; of the new events after it, only those that move seats
    up: the ones that move seats down are judged in their turn, and may be blamed themselves.
    """
    position = {event.event_id: index for index, event in enumerate(events)}
    decided = [event.row_number is None for event in events]  # loaded events are decided
    kept = list(decided)
    voided = {
        event.voids for event in events if event.row_number is None and event.voids in position
    }
    blamed = []
    for index, event in enumerate(events):
        if decided[index]:
            continue
        decided[index] = True
        start = _moves_down_from(events, index, position, kept, decided, voided)
        if start is not None:
            with_it = _balances(events, index, True, position, kept, decided, voided)
            without = _balances(events, index, False, position, kept, decided, voided)
            own = any(with_it[at] < 0 for at in range(start, index + 1) if kept[at] or at == index)
            later = any(
                with_it[at] < 0 <= without[at]
                for at in range(index + 1, len(events))
                if events[at].row_number is None
            )
            if own or later:
                blamed.append(event.row_number)
                continue
        kept[index] = True
        if event.voids in position:
            voided.add(event.voids)
    return blamed


def _moves_down_from(
    events: list[SeatEvent],
    index: int,
    position: dict[str, int],
    kept: list[bool],
    decided: list[bool],
    voided: set[str],
) -> int | None:
    """Where the event starts taking seats away (its place, or the voided event's), if it does."""
    event = events[index]
    if event.event_id in voided:
        return None  # voided before its turn: it moves nothing
    if event.voids is None:
        return index if event.delta < 0 else None
    target = position.get(event.voids)
    if target is None or event.voids in voided or events[target].delta <= 0:
        return None
    if decided[target] and not kept[target]:
        return None  # the named event was quarantined: voiding it moves nothing
    return min(target, index)


def _balances(
    events: list[SeatEvent],
    index: int,
    with_event: bool,
    position: dict[str, int],
    kept: list[bool],
    decided: list[bool],
    voided: set[str],
) -> list[int]:
    """Billable seats after each event, as the replay knows them while judging `index`."""
    event = events[index]
    void_now = set(voided)
    if with_event and event.voids in position:
        void_now.add(event.voids)
    steps = [0] * len(events)
    for at, other in enumerate(events):
        if other.event_id in void_now:
            continue
        if kept[at] or (at == index and with_event):
            steps[at] += other.delta
        elif not decided[at] and at > index:
            if other.delta > 0:
                steps[at] += other.delta  # a later add: it will be kept
            elif other.voids in position and other.voids not in void_now:
                # A later correction voiding a kept removal gives its seats back, but only
                # from its own turn on as far as this judgement goes.
                target = position[other.voids]
                if kept[target] and events[target].delta < 0:
                    steps[max(target, index + 1)] -= events[target].delta
    balances, running = [], 0
    for step in steps:
        running += step
        balances.append(running)
    return balances


# --------------------------------------------------------------------------- period overlaps


def blame_overlaps(conn: duckdb.DuckDBPyConnection, export: Export) -> int:
    """Append the overlap rule to the file's rows whose period overlaps another's.

    Works on `_checked` like `blame_below_zero`; returns how many rows were blamed. Judged again
    until no row is blamed: a blamed row no longer counts as a version, so the version it would
    have replaced (or an older version of its own key) is judged in the next round.
    """
    rule = next((r for r in cross_row_rules(export.name) if isinstance(r, PeriodOverlapRule)), None)
    if rule is None:
        return 0
    blamed_total = 0
    while True:
        blamed = [row for (row,) in conn.execute(_overlap_sql(rule, export)).fetchall()]
        if not blamed:
            return blamed_total
        conn.execute(
            """update _checked
            set __rules = list_append(__rules, ?)
            where __row_number in (select unnest(?::bigint[]))""",
            [rule.name, blamed],
        )
        blamed_total += len(blamed)


def _overlap_sql(rule: PeriodOverlapRule, export: Export) -> str:
    """Row numbers of the file's rows that are their key's latest version and overlap another
    key's latest version of the same partition that starts earlier, or that was loaded before.

    Versions are the loaded rows and the file's rows that broke no rule so far; a file's row no
    newer than a loaded version of its key is a duplicate delivery and never the latest (the
    loader keeps the first delivery of a version), nor is a later row of the file with the
    same version as an earlier one.
    """
    assert export.latest_wins_by is not None, "overlaps are judged between snapshot versions"
    key = quote(export.key[0])
    version = quote(export.latest_wins_by)
    partition, starts, ends = (quote(rule.partition_by), quote(rule.starts), quote(rule.ends))
    selected = f"{key}, {partition}, {starts}, {ends}, {version}"
    return f"""with
        candidates as (
            select __row_number, {selected}, false as __loaded
            from _checked
            where len(__rules) = 0
        ),
        versions as (
            select null::bigint as __row_number, {selected}, true as __loaded
            from {export.relation}
            where {partition} in (select {partition} from candidates)
            union all
            select * from candidates
        ),
        latest as (
            select * from versions
            qualify row_number() over (
                partition by {key} order by {version} desc, __loaded desc, __row_number
            ) = 1
        )
        select this_row.__row_number
        from latest as this_row
        where not this_row.__loaded
            and exists (
                select 1 from latest as other
                where other.{partition} = this_row.{partition}
                    and other.{key} <> this_row.{key}
                    and (this_row.{ends} is null or other.{starts} < this_row.{ends})
                    and (other.{ends} is null or this_row.{starts} < other.{ends})
                    and (
                        other.__loaded
                        or other.{starts} < this_row.{starts}
                        or (other.{starts} = this_row.{starts} and other.{key} < this_row.{key})
                    )
            )
        order by this_row.__row_number"""
