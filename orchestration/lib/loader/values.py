"""Value rules: each contract column typed from whatever the file carries, and the rules it broke.

A file's column may be text (CSV, JSONL) or a native Parquet type; either way one SQL expression
gives the typed value and a list of (rule name, broken condition) pairs, in the order of
`contract.rules.VALUE_RULE_KINDS`. Nothing here reads other rows.
"""

from __future__ import annotations

import datetime as dt
import re

from orchestration.lib.contract import IMPLAUSIBLE_TIME, Column, Export
from orchestration.lib.contract.rules import DECIMAL_SCALES
from orchestration.lib.contract.sql import implausible_time_sql, literal, quote

# ISO 8601 with a time and an explicit offset; DuckDB would silently read a naive value in the
# session time zone, so the offset is checked by pattern before the value is cast.
_OFFSET_PATTERN = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)"
_INTEGER_PATTERN = r"[+-]?\d+"
_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
_INTEGER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def column_sql(
    column: Column, source_type: str | None
) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """(typed value, [(rule name, broken condition)] in rule order, parsed columns) of one
    contract column; parsed columns are [(name, expression over the file's row)].

    The value and the rules refer to each parsed column by its quoted name; select the parsed
    columns in a step before them, so that each text is parsed once per row, not once per rule
    that reads it.
    """
    if source_type is None:  # an optional column the file does not carry
        default = column.default if column.default is not None else 0
        value = str(default) if column.type == "integer" else "null"
        return f"cast({value} as {column.raw_type})", [], []
    parsed_columns: list[tuple[str, str]] = []

    def parse_once(kind: str, expression: str) -> str:
        name = f"__{kind}_{column.name}"
        parsed_columns.append((name, expression))
        return quote(name)

    source = quote(column.name)
    is_text = source_type == "VARCHAR"
    text = source if is_text else f"cast({source} as varchar)"
    empty = f"({source} is null or {source} = '')" if is_text else f"({source} is null)"
    decimal = _DECIMAL_TYPE.fullmatch(source_type)
    type_broken = "false"
    offset_missing = "false"
    too_many_decimals = "false"

    if column.type == "string":
        value = f"case when not {empty} then {text} end"
    elif column.type == "timestamp":
        if source_type == "TIMESTAMP WITH TIME ZONE":
            value = f"cast({source} as timestamp)"
        else:
            parsed = parse_once("timestamptz", f"try_cast({text} as timestamptz)")
            has_offset = parse_once(
                "has_offset", f"regexp_matches({text}, {literal(_OFFSET_PATTERN)})"
            )
            # The instant as naive UTC: epoch arithmetic, not the time-zone library's cast,
            # which costs more than the parse itself. They differ only for `infinity`, which
            # has no offset and so never gets here.
            value = f"case when {has_offset} then make_timestamp(epoch_us({parsed})) end"
            type_broken = f"not {empty} and {parsed} is null"
            offset_missing = f"not {empty} and {parsed} is not null and not {has_offset}"
    elif column.type == "date":
        if source_type == "DATE":
            value = source
        else:
            value = (
                f"case when regexp_full_match({text}, {literal(_DATE_PATTERN)}) "
                f"then try_cast({text} as date) end"
            )
            type_broken = f"not {empty} and ({value}) is null"
    elif column.type in DECIMAL_SCALES:
        scale = DECIMAL_SCALES[column.type]
        target = column.raw_type
        if decimal or source_type in _INTEGER_TYPES:
            if decimal and int(decimal.group(2)) > scale:
                too_many_decimals = f"{source} <> round({source}, {scale})"
            value = f"case when not ({too_many_decimals}) then try_cast({source} as {target}) end"
            type_broken = (
                f"{source} is not null and not ({too_many_decimals}) and ({value}) is null"
            )
        else:
            is_number = f"regexp_full_match({text}, {literal(_NUMBER_PATTERN)})"
            # Trailing zeros carry no precision (JSON and floats drop them anyway): only a
            # non-zero digit beyond the storage scale is a decimal too many.
            beyond_scale = literal(r"\." + r"\d" * scale + r"\d*[1-9]")
            too_many_decimals = f"{is_number} and regexp_matches({text}, {beyond_scale})"
            value = (
                f"case when {is_number} and not ({too_many_decimals}) "
                f"then try_cast({text} as {target}) end"
            )
            type_broken = f"not {empty} and not ({too_many_decimals}) and ({value}) is null"
    elif column.type == "integer":
        if source_type in _INTEGER_TYPES:
            parsed = f"try_cast({source} as bigint)"
        elif decimal or source_type in _FLOAT_TYPES:
            parsed = f"case when {source} = trunc({source}) then try_cast({source} as bigint) end"
        else:
            parsed = parse_once(
                "integer",
                f"case when regexp_full_match({text}, {literal(_INTEGER_PATTERN)}) "
                f"then try_cast({text} as bigint) end",
            )
        type_broken = f"not {empty} and ({parsed}) is null"
        if column.required:
            value = f"case when not {empty} then {parsed} end"
        else:
            default = column.default if column.default is not None else 0
            value = f"case when {empty} then {default} else {parsed} end"
    else:  # pragma: no cover - contract.RAW_TYPES and this function move together
        raise ValueError(f"no loader for type {column.type}")

    checks = []
    if column.required:
        checks.append(("required", empty))
    checks.append(("type", type_broken))
    checks.append(("timestamp_without_offset", offset_missing))
    if column.allowed:
        allowed = ", ".join(literal(option) for option in column.allowed)
        checks.append(("allowed_values", f"not {empty} and ({value}) not in ({allowed})"))
    if column.minimum is not None:
        checks.append(("minimum", f"not {empty} and ({value}) < {column.minimum!r}"))
    if column.exclusive_minimum is not None:
        checks.append(("minimum", f"not {empty} and ({value}) <= {column.exclusive_minimum!r}"))
    checks.append(("too_many_decimals", too_many_decimals))
    if column.pattern:
        checks.append(
            ("pattern", f"not {empty} and not regexp_matches({text}, {literal(column.pattern)})")
        )
    rules = [
        (f"{rule}:{column.name}", condition) for rule, condition in checks if condition != "false"
    ]
    return value, rules, parsed_columns


def plausible_time_check(
    export: Export, since: dt.datetime, latest: dt.datetime
) -> tuple[str, str] | None:
    """(rule name, broken condition) over the typed row: a time outside [since, latest].

    One rule for all of the export's event times, so a row with two wrong clocks is counted
    once; its raw record shows which.
    """
    columns = IMPLAUSIBLE_TIME.columns_of(export)
    if not columns:
        return None
    bounds = (_timestamp_literal(since), _timestamp_literal(latest))
    broken = " or ".join(
        f"coalesce({implausible_time_sql(quote(name), *bounds)}, false)" for name in columns
    )
    return IMPLAUSIBLE_TIME.name, f"({broken})"


def _timestamp_literal(moment: dt.datetime) -> str:
    return f"timestamp {literal(moment.isoformat(sep=' '))}"


def rule_list_sql(rules: list[tuple[str, str]]) -> str:
    """SQL for the list of names of the rules whose broken condition holds."""
    if not rules:
        return "cast([] as varchar[])"
    items = ",\n                ".join(
        f"case when coalesce({condition}, false) then {literal(rule)} end"
        for rule, condition in rules
    )
    # Almost every row breaks nothing: build the list (16 items for a usage event) only for the
    # rows that break something, and give the others one shared empty list.
    broken = "\n                or ".join(f"coalesce({condition}, false)" for _, condition in rules)
    return f"""case when {broken}
            then list_filter([
                {items}
            ], lambda rule: rule is not null)
            else cast([] as varchar[])
        end"""
