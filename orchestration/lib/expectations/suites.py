"""What is expected of each export: its suite, compiled from the export contract's declarations.

Each expectation names the contract rules it restates in its meta (`contract_rules`); critical
ones restate a rule and block the refresh, the others are plausibility warnings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import great_expectations.expectations as gxe

from orchestration.lib import contract, settings
from orchestration.lib.contract import rules as contract_rules
from orchestration.lib.contract.sql import (
    implausible_time_sql,
    literal,
    lookup_columns,
    lookup_sql,
    quote,
    rule_broken_sql,
    seat_delta_sql,
)

# Plausibility limits (non-critical): values beyond these are legal but almost surely an error.
MAX_TOKENS_PER_EVENT = 10_000_000
MAX_SEATS_PER_EVENT = 10_000
# The weakest currencies in use trade near 1e-5 USD (LBP, VND, IRR) and the strongest near 3.3
# (KWD): a cent as the floor would warn about JPY and KRW on every refresh.
MIN_USD_PER_UNIT = 0.000001
MAX_USD_PER_UNIT = 10


def suite(export: str) -> list[tuple[gxe.Expectation, bool]]:
    """Fresh expectations for an export, each with whether it is critical (blocks the refresh)."""
    spec = export_spec(export)
    critical = [
        *_column_rules(spec),
        *_storage_rules(spec),
        *_key_rules(spec),
        *_plausible_time_rules(spec),
        *_cross_row_rules(spec),
    ]
    return [(expectation, True) for expectation in critical] + [
        (expectation, False) for expectation in _warnings(spec)
    ]


def _column_rules(spec: contract.Export) -> list[gxe.Expectation]:
    expectations: list[gxe.Expectation] = []
    for column in spec.columns:
        name = column.name
        if column.required:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=name, meta=_meta(f"{name} is not null", name, [f"required:{name}"])
                )
            )
        if column.allowed:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name,
                    value_set=list(column.allowed),
                    meta=_meta(
                        f"{name} in ({', '.join(column.allowed)})",
                        name,
                        [f"allowed_values:{name}"],
                    ),
                )
            )
        if column.minimum is not None:
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=column.minimum,
                    meta=_meta(f"{name} >= {column.minimum:g}", name, [f"minimum:{name}"]),
                )
            )
        if column.exclusive_minimum is not None:
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=column.exclusive_minimum,
                    strict_min=True,
                    meta=_meta(f"{name} > {column.exclusive_minimum:g}", name, [f"minimum:{name}"]),
                )
            )
        if column.pattern:
            expectations.append(_matches_pattern(name, column.pattern))
    return expectations


def _matches_pattern(column: str, pattern: str) -> gxe.Expectation:
    # GX 1.24 has no regex translation for the duckdb dialect (ExpectColumnValuesToMatchRegex
    # fails without a reason), so the rule is written in DuckDB's own SQL.
    return _rows_query(
        f"select {column} from {{batch}} "
        f"where {column} is not null and not regexp_full_match({column}, {literal(pattern)})",
        description=f"`{column}` matches `{pattern}`",
        meta=_meta(f"{column} matches {pattern}", column, [f"pattern:{column}"]),
    )


def _storage_rules(spec: contract.Export) -> list[gxe.Expectation]:
    """The raw columns have the contract's types, so every stored value passed the type rules.

    A value that is not of its type, a timestamp without an offset or a decimal too many cannot
    be stored in a column of the contract's type; what GX can check is that the column is one.
    """
    enforced = [
        rule.name
        for rule in contract_rules.value_rules(spec)
        if rule.kind in contract_rules.STORAGE_ENFORCED_KINDS
    ]
    if not enforced:
        return []
    expected = " ".join(
        f"when {literal(column.name)} then {literal(_type_name(column.raw_type))}"
        for column in spec.columns
    )
    names = ", ".join(literal(column.name) for column in spec.columns)
    return [
        _rows_query(
            "select column_name, data_type from information_schema.columns"
            f" where table_schema = {literal(spec.schema)} and table_name = {literal(spec.table)}"
            f" and column_name in ({names})"
            f" and data_type is distinct from (case column_name {expected} end)"
            " and exists (select 1 from {batch})",
            description="the raw columns have the contract's types",
            meta=_meta("raw columns have the contract's types", spec.column_names, enforced),
        )
    ]


def _type_name(raw_type: str) -> str:
    return raw_type.upper().replace(" ", "")


def _key_rules(spec: contract.Export) -> list[gxe.Expectation]:
    """No key twice among the validated rows: the rows whose key is repeated, found with one
    grouped query and a probe of the rows by the repeated keys. (GX's ExpectColumnValuesToBeUnique
    runs a NOT IN over the grouped keys for the count and a window over every row for the
    examples: both together about twice the time, on 13M events 8-15 s against 5-8 s.)"""
    # A snapshot export keeps every version of a row, one per updated_at; the others keep one row.
    key = list(spec.key) + ([spec.latest_wins_by] if spec.latest_wins_by else [])
    columns = ", ".join(quote(column) for column in key)
    name = key[0] if len(key) == 1 else f"({', '.join(key)})"
    return [
        _rows_query(
            f"""select {", ".join(f"this_row.{quote(column)}" for column in key)}
            from (select {columns} from {{batch}}) as this_row
            semi join (
                select {columns} from {{batch}} group by {columns} having count(*) > 1
            ) as repeated using ({columns})""",
            description=f"`{name}` is unique: no key is delivered twice among the loaded rows",
            meta=_meta(f"{name} is unique", key),
        )
    ]


# The refresh that loaded a row started at the time its id carries (`new_refresh_id`); rows of
# an id of another shape (tests, hand loads) fall back to when they were loaded.
_REFRESH_START_SQL = "coalesce(try_strptime(left(_refresh_id, 16), '%Y%m%dT%H%M%SZ'), _loaded_at)"


def _plausible_time_rules(spec: contract.Export) -> list[gxe.Expectation]:
    rule = contract_rules.IMPLAUSIBLE_TIME
    since = f"timestamp {literal(settings.plausible_since().isoformat(sep=' '))}"
    ahead = settings.plausible_ahead() // dt.timedelta(microseconds=1)
    latest = f"({_REFRESH_START_SQL} + to_microseconds({ahead}))"
    return [
        _rows_query(
            f"select {quote(column)} from {{batch}}"
            f" where {implausible_time_sql(quote(column), since, latest)}",
            description=f"`{column}` is a plausible time",
            meta=_meta(f"{column} is a plausible time", column, [rule.name]),
        )
        for column in rule.columns_of(spec)
    ]


def _cross_row_rules(spec: contract.Export) -> list[gxe.Expectation]:
    """The contract's rules between rows and exports, each one SQL query for its failing rows."""
    declared = contract_rules.cross_row_rules(spec.name)
    references = [rule for rule in declared if isinstance(rule, contract_rules.ReferenceRule)]
    expectations = []
    for rule in declared:
        if isinstance(rule, contract_rules.SeatBalanceRule):
            expectations.append(_seat_balance(spec, rule))
            continue
        if isinstance(rule, contract_rules.PeriodOverlapRule):
            expectations.append(_period_overlap(spec, rule))
            continue
        relation = None
        if isinstance(rule, contract_rules.ReferenceRule):
            columns = lookup_columns(rule.lookup, references)
            relation = f"({lookup_sql(rule.lookup, columns)})"
        shown = ", ".join(f"this_row.{quote(column)}" for column in rule.columns)
        expectations.append(
            _rows_query(
                f"select {shown} from (select * from {{batch}}) as this_row"
                f" where coalesce({rule_broken_sql(rule, relation)}, false)",
                description=rule.description,
                meta=_meta(rule.description, list(rule.columns), [rule.name]),
            )
        )
    return expectations


def _seat_balance(spec: contract.Export, rule: contract_rules.SeatBalanceRule) -> gxe.Expectation:
    """Replayed in the contract's order, no subscription the batch touches goes below zero."""
    key = quote(spec.key[0])
    partition = quote(rule.partition_by)
    order = ", ".join(f"events.{quote(column)}" for column in rule.order_by)
    effective = quote(rule.order_by[0])
    voided = f"""exists (
                select 1 from {spec.relation} as voiding
                where voiding.{quote(rule.type_column)} = {literal(rule.voiding_type)}
                    and voiding.{quote(rule.voids_column)} = events.{key}
                    and voiding.{partition} = events.{partition}
            )"""
    query = f"""select {key}, {partition}, {effective}, billable_seats from (
        select
            events.{key},
            events.{partition},
            events.{effective},
            sum(case when {voided} then 0 else {seat_delta_sql(rule, "events")} end) over (
                partition by events.{partition}
                order by {order}
                rows between unbounded preceding and current row
            ) as billable_seats
        from {spec.relation} as events
        where events.{partition} in (select {partition} from {{batch}})
    ) as replayed
    where billable_seats < 0"""
    return _rows_query(
        query,
        description=rule.description,
        meta=_meta(rule.description, list(rule.columns), [rule.name]),
    )


def _period_overlap(
    spec: contract.Export, rule: contract_rules.PeriodOverlapRule
) -> gxe.Expectation:
    """No validated row that is its key's latest version overlaps another key's latest version
    of the same partition. Stored rows are all loaded, so both rows of a pair are shown (the
    loader quarantines one of them; two stored means one bypassed it)."""
    key = quote(spec.key[0])
    version = quote(spec.latest_wins_by or "")
    partition, starts, ends = (quote(rule.partition_by), quote(rule.starts), quote(rule.ends))
    query = f"""with latest as (
        select {key}, {partition}, {starts}, {ends}, {version} from {spec.relation}
        qualify row_number() over (partition by {key} order by {version} desc) = 1
    )
    select this_row.{key}, this_row.{partition}, this_row.{starts}, this_row.{ends}
    from (select * from {{batch}}) as this_row
    semi join latest as mine
        on mine.{key} = this_row.{key} and mine.{version} = this_row.{version}
    where exists (
        select 1 from latest as other
        where other.{partition} = this_row.{partition}
            and other.{key} <> this_row.{key}
            and (this_row.{ends} is null or other.{starts} < this_row.{ends})
            and (other.{ends} is null or this_row.{starts} < other.{ends})
    )"""
    return _rows_query(
        query,
        description=rule.description,
        meta=_meta(rule.description, list(rule.columns), [rule.name]),
    )


def _rows_query(query: str, description: str, meta: dict[str, Any]) -> gxe.Expectation:
    """An expectation that the query finds no rows; `{batch}` is the validated rows.

    GX fills `{batch}` with str.format: every other brace (a regex quantifier) is doubled.
    """
    escaped = query.replace("{", "{{").replace("}", "}}").replace("{{batch}}", "{batch}")
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=escaped, description=description, meta=meta
    )


def _warnings(spec: contract.Export) -> list[gxe.Expectation]:
    if spec.name == "usage_events":
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                max_value=MAX_TOKENS_PER_EVENT,
                strict_max=True,
                meta=_meta(f"{column} < {MAX_TOKENS_PER_EVENT:,} per event", column),
            )
            for column in ("input_tokens", "output_tokens")
        ]
    if spec.name == "seat_events":
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column="quantity",
                max_value=MAX_SEATS_PER_EVENT,
                strict_max=True,
                meta=_meta(f"quantity < {MAX_SEATS_PER_EVENT:,} seats per event", "quantity"),
            )
        ]
    if spec.name == "invoices":
        # No GX 1.24 expectation compares a column with the sum of two others; SQL does.
        return [
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select invoice_id, subtotal, tax, total from {batch} "
                    "where total <> subtotal + coalesce(tax, 0)"
                ),
                description="`total` equals `subtotal` + `tax`",
                meta=_meta("total = subtotal + tax", ["total", "subtotal", "tax"]),
            )
        ]
    if spec.name == "invoice_lines":
        return [
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select line_id, line_type, amount from {batch} "
                    "where line_type in ('discount', 'credit') and amount > 0"
                ),
                description="discount and credit lines have a negative or zero `amount`",
                meta=_meta("discount and credit amounts <= 0", ["line_type", "amount"]),
            )
        ]
    if spec.name == "accounts":
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="updated_at",
                column_B="created_at",
                or_equal=True,
                meta=_meta("updated_at >= created_at", ["updated_at", "created_at"]),
            )
        ]
    if spec.name == "fx_rates":
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column="usd_per_unit",
                min_value=MIN_USD_PER_UNIT,
                max_value=MAX_USD_PER_UNIT,
                meta=_meta(
                    f"usd_per_unit between {MIN_USD_PER_UNIT:g} and {MAX_USD_PER_UNIT:g}",
                    "usd_per_unit",
                ),
            )
        ]
    return []


def _meta(rule: str, column: str | list[str], restates: list[str] | None = None) -> dict[str, Any]:
    """What the expectation asks, on which columns, and the contract rules it restates."""
    columns = [column] if isinstance(column, str) else list(column)
    meta: dict[str, Any] = {"rule": rule, "column_name": ", ".join(columns)}
    if restates:
        meta["contract_rules"] = restates
    return meta


def export_spec(export: str) -> contract.Export:
    try:
        return contract.EXPORTS[export]
    except KeyError:
        raise ValueError(
            f"unknown export {export!r}; known: {', '.join(contract.EXPORTS)}"
        ) from None
