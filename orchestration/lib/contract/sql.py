"""The declared rules rendered as DuckDB SQL, shared by both compilers of the contract.

The loader judges the rows of a file before they are stored; the GX suites judge the rows a
refresh stored. Both need the same condition for a rule, so both render it here: the loader
over its typed file rows, GX over the raw table, each binding `this_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from orchestration.lib.contract.exports import EXPORTS
from orchestration.lib.contract.rules import (
    Lookup,
    ReferenceRule,
    RowRule,
    SeatBalanceRule,
)

_REFERENCED_COLUMN = re.compile(r"\breferenced\.(\w+)")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def lookup_name(lookup: Lookup) -> str:
    """A CTE name for the lookup, the same for equal lookups so rules can share it."""
    on = "_".join(referenced for _, referenced in lookup.on)
    return f"lookup_{lookup.export}_by_{on}" + ("_latest" if lookup.latest else "")


def lookup_columns(lookup: Lookup, rules: Iterable[ReferenceRule]) -> list[str]:
    """The referenced export's columns the lookup must carry: its keys and what rules read."""
    needed = [referenced for _, referenced in lookup.on]
    for rule in rules:
        if rule.lookup == lookup:
            needed += _REFERENCED_COLUMN.findall(rule.match)
    return list(dict.fromkeys(needed))


def lookup_sql(lookup: Lookup, columns: list[str], same_file_rows: str | None = None) -> str:
    """A select of the rows a lookup can find; `same_file_rows` names the file's own rows."""
    selected = ", ".join(quote(column) for column in columns)
    if lookup.relation is not None:
        return f"select distinct {selected} from {lookup.relation}"
    spec = EXPORTS[lookup.export]
    if lookup.latest and spec.latest_wins_by:
        # The latest version by the export's own rule; ties (equal updated_at) by load order.
        key = ", ".join(quote(column) for column in spec.key)
        return f"""select {selected}
            from {spec.relation}
            qualify row_number() over (
                partition by {key}
                order by {quote(spec.latest_wins_by)} desc, _loaded_at desc, _file_name desc,
                    _row_number desc
            ) = 1"""
    loaded = f"select {selected} from {spec.relation}"
    if same_file_rows is None:
        return loaded if lookup.same_file else f"select distinct {selected} from {spec.relation}"
    return f"{loaded}\n            union all\n            select {selected} from {same_file_rows}"


def rule_broken_sql(rule: RowRule | ReferenceRule, lookup_relation: str | None = None) -> str:
    """SQL over `this_row` that is true when the row breaks the rule.

    A reference rule searches `lookup_relation` (a CTE or a parenthesised select) as
    `referenced`.
    """
    if isinstance(rule, RowRule):
        return f"({rule.broken})"
    relation = lookup_relation or lookup_name(rule.lookup)
    on = " and ".join(
        f"referenced.{quote(referenced)} = this_row.{quote(column)}"
        for column, referenced in rule.lookup.on
    )
    exists = f"exists (select 1 from {relation} as referenced where {on} and ({rule.match}))"
    negation = "not " if rule.broken_when == "missing" else ""
    return f"(({rule.applies_to}) and {negation}{exists})"


def seat_delta_sql(rule: SeatBalanceRule, relation: str = "") -> str:
    """SQL for how far an event moves billable seats, from the declared sign of its type."""
    prefix = f"{relation}." if relation else ""
    cases = " ".join(
        f"when {literal(event_type)} then {sign} * {prefix}{quote(rule.quantity_column)}"
        for event_type, sign in rule.sign.items()
        if sign
    )
    return f"(case {prefix}{quote(rule.type_column)} {cases} else 0 end)"


def implausible_time_sql(value: str, since: str, latest: str) -> str:
    """SQL that is true when a time (an SQL expression) lies outside [since, latest]."""
    value = f"cast({value} as timestamp)"
    return f"({value} < {since} or {value} > {latest})"
