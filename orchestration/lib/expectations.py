"""Great Expectations suites for the raw exports, run as SQL inside the DuckDB warehouse.

The loader already quarantines rows that break a rule of the export contract; these suites are
the independent second line. They compile the same declarations as the loader (`contract`: value
rules, plausible times, foreign keys, rules between rows, the seat balance), run as SQL push-down
on the raw table (never through a DataFrame: the usage table has millions of rows) and, when a
refresh id is given, only on the rows that refresh loaded, so the cost follows the new data
rather than the history. Each expectation names the contract rules it restates in its meta
(`contract_rules`), so a test can prove that every rule has one.

A *critical* expectation restates a contract rule: when it fails, the loader (or a hand edit)
let bad data through and the refresh must stop. A non-critical one is a plausibility check a
data team wants to hear about (a 50M-token event, an invoice whose total is not subtotal + tax)
without blocking the numbers of everyone else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import sqlalchemy as sa
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import TestConnectionError
from great_expectations.execution_engine import sqlalchemy_execution_engine

from orchestration.lib import contract, docs_site, settings
from orchestration.lib.contract import rules as contract_rules
from orchestration.lib.contract.audit import AUDIT_TABLES, AUDIT_UPGRADES, EXPECTATION_RESULTS
from orchestration.lib.contract.sql import (
    implausible_time_sql,
    literal,
    lookup_columns,
    lookup_sql,
    quote,
    rule_broken_sql,
    seat_delta_sql,
)

# Enough failing values for a person to recognise the problem; GX never fetches more than this.
EXAMPLE_COUNT = 5
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLE_COUNT}

# Plausibility limits (non-critical): values beyond these are legal but almost surely an error.
MAX_TOKENS_PER_EVENT = 10_000_000
MAX_SEATS_PER_EVENT = 10_000
# The weakest currencies in use trade near 1e-5 USD (LBP, VND, IRR) and the strongest near 3.3
# (KWD): a cent as the floor would warn about JPY and KRW on every refresh.
MIN_USD_PER_UNIT = 0.000001
MAX_USD_PER_UNIT = 10

RESULTS_TABLE = EXPECTATION_RESULTS
RESULTS_DDL = [
    "create schema if not exists audit",
    AUDIT_TABLES[EXPECTATION_RESULTS],
    *[statement for statement in AUDIT_UPGRADES if EXPECTATION_RESULTS in statement],
]
RESULT_FIELDS = (
    "refresh_id",
    "export",
    "relation",
    "expectation_type",
    "column_name",
    "rule",
    "is_critical",
    "success",
    "element_count",
    "unexpected_count",
    "unexpected_examples",
    "details",
    "validated_at",
)

# Our site only: building every site would also fill the ephemeral context's default temp folder.
DOCS_SITE = "seatshift"
OUTCOME_FILE = docs_site.OUTCOME_FILE  # per-export summary the top-level docs index reads


@dataclass
class ValidationOutcome:
    export: str
    relation: str
    refresh_id: str | None
    success: bool  # every critical expectation passed
    results: list[dict[str, Any]]  # one dict per expectation, keys = RESULT_FIELDS
    critical_failures: list[str]  # one readable line per failed critical expectation
    warnings: list[str] = field(default_factory=list)  # failed non-critical expectations
    validated_at: datetime | None = None  # UTC, naive like every timestamp of the warehouse
    docs_index: Path | None = None  # the export's Data Docs page, when built


def let_gx_keep_one_duckdb_connection() -> None:
    """Make GX hold one open connection to DuckDB for a whole validation (a private-API patch).

    GX's SQL engine opens a connection per query and closes it when its `with` block ends, which
    for DuckDB happens before the rows are fetched: every expectation then fails with `list index
    out of range`. For the dialects listed in `_PERSISTED_CONNECTION_DIALECTS` (sqlite, mssql, ...)
    GX instead keeps one connection on a static pool and reuses it; adding duckdb to that list is
    all SQL push-down needs. The entry must compare equal to the dialect name ("duckdb") and
    carry `.value` like the `GXSqlDialect` members beside it, hence the small `str` subclass.

    The list is private: `tests/quality/test_expectations.py` fails loudly if GX renames it or
    stops honouring it, which is the signal to revisit this function on a GX upgrade.
    """
    dialects = getattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(dialects, tuple):
        raise RuntimeError(
            "great_expectations.execution_engine.sqlalchemy_execution_engine no longer has the "
            "tuple _PERSISTED_CONNECTION_DIALECTS: revisit let_gx_keep_one_duckdb_connection()"
        )
    if "duckdb" not in dialects:
        sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS = (
            *dialects,
            _DialectName("duckdb"),
        )


class _DialectName(str):
    @property
    def value(self) -> str:
        return str(self)


# ---------------------------------------------------------------------------------------------
# Suites


def suite(export: str) -> list[tuple[gxe.Expectation, bool]]:
    """Fresh expectations for an export, each with whether it is critical (blocks the refresh)."""
    spec = _export(export)
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


def _export(export: str) -> contract.Export:
    try:
        return contract.EXPORTS[export]
    except KeyError:
        raise ValueError(
            f"unknown export {export!r}; known: {', '.join(contract.EXPORTS)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Validation


def validate_export(
    database: Path,
    export: str,
    refresh_id: str | None = None,
    docs_dir: Path | None = None,
    published_docs_dir: Path | None = None,
) -> ValidationOutcome:
    """Run the export's suite as SQL on its raw table; only the rows of `refresh_id` when given.

    Opens the DuckDB file read-write for the duration (DuckDB takes one writer process): call it
    when no other process holds the file, as the refresh job does between load and dbt build, and
    with no connection to it open in this process either (duckdb-engine's connection settings
    differ from a plain `duckdb.connect`, which DuckDB refuses within one process). The file is
    released on return, so `record_outcome` can open its own connection right after.
    """
    spec = _export(export)
    database = Path(database).resolve()
    let_gx_keep_one_duckdb_connection()
    _quiet_gx_logging()

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    export_docs = Path(docs_dir).resolve() / export if docs_dir is not None else None
    if export_docs is not None:
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(export_docs),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )

    validated_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        datasource = context.data_sources.add_sql(
            name="warehouse",
            # duckdb-engine passes the URL's query as DuckDB's config: the refresh's memory bound
            # (without it, a grouped check over 100M new events took DuckDB's default, 80% of
            # the machine: a 19 GB refresh).
            connection_string=(
                f"duckdb:///{database}?memory_limit={settings.duckdb_memory_limit()}"
            ),
        )
    except TestConnectionError as error:
        raise RuntimeError(
            f"GX cannot open {database}: {error}. DuckDB allows one writing process, and within "
            "a process no second connection with other settings (duckdb-engine adds a user "
            "agent): close this process's connections to the file before validating."
        ) from error
    engine = datasource.get_execution_engine()
    try:
        columns = _table_columns(engine.engine, spec)
        if not columns or set(spec.column_names) - columns:
            return _unvalidated_outcome(spec, refresh_id, validated_at, columns)
        batch_query = _batch_query(spec, _batch_refresh_id(engine.engine, spec, refresh_id))
        asset = datasource.add_query_asset(name=spec.relation, query=batch_query)
        batch_definition = asset.add_batch_definition_whole_table(name="batch")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=spec.relation))
        for expectation, critical in suite(export):
            expectation.meta = {**(expectation.meta or {}), "critical": critical}
            gx_suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.relation, data=batch_definition, suite=gx_suite)
        )
        suite_result = definition.run(result_format=RESULT_FORMAT)
        # Rendering the Data Docs is most of a check's cost (GX compiles its page templates
        # anew each time: about 60% of a small export's check). A refresh that loaded no row of
        # the export validated nothing new, so the site keeps the last validation of real rows.
        # `docs_dir` may be a refresh's staging folder; `published_docs_dir` the site readers have.
        existing = Path(published_docs_dir or docs_dir or ".").resolve() / export / "index.html"
        build_docs = export_docs is not None and (
            _validated_rows(suite_result) != 0 or not existing.exists()
        )
        if build_docs:
            context.build_data_docs(site_names=[DOCS_SITE])
    finally:
        # Release the file: the next step (dbt, another process) needs the DuckDB lock. The
        # datasource keeps an engine of its own (it tests the connection) beside GX's.
        datasource.get_execution_engine().close()
        engine.close()
        datasource.get_engine().dispose()

    examples = _sql_rule_examples(database, batch_query, suite_result)
    outcome = _outcome(spec, refresh_id, validated_at, suite_result, examples)
    if build_docs and docs_dir is not None:
        outcome.docs_index = export_docs / "index.html"
        _write_docs_index(Path(docs_dir).resolve(), outcome)
    elif export_docs is not None:
        outcome.docs_index = existing
    return outcome


def _batch_refresh_id(
    engine: sa.Engine, spec: contract.Export, refresh_id: str | None
) -> str | None:
    """The refresh id the batch query filters on: None when that refresh's rows are every row of
    the table (a first or full load), so the batch is the table itself.

    The same rows either way, but DuckDB plans the reference rules' `not exists` over a filtered
    batch by materialising every column of every row first: at 98.6M events of one refresh the
    usage events' reference rule took 43 s filtered and 0.5 s unfiltered. A daily batch is a
    small part of the table and stays filtered (0.5 s for 273k new rows beside 98.6M)."""
    if refresh_id is None:
        return None
    with engine.connect() as conn:
        total, of_refresh = conn.execute(
            sa.text(
                f"select count(*), count(*) filter (where _refresh_id = :refresh_id) "
                f"from {spec.relation}"
            ),
            {"refresh_id": refresh_id},
        ).one()
    return None if total == of_refresh else refresh_id


def _batch_query(spec: contract.Export, refresh_id: str | None) -> str:
    # A query asset cannot bind parameters; the refresh id is a quoted SQL literal instead.
    query = f"select * from {spec.relation}"
    if refresh_id is not None:
        query += " where _refresh_id = '{}'".format(refresh_id.replace("'", "''"))
    return query


def _validated_rows(suite_result: Any) -> int | None:
    """The rows the suite saw (its column expectations' element count); None when no result
    says. Read from the results: a query of our own would need a second connection, which GX's
    persisted one (in a transaction) does not allow."""
    counts = [
        result.result.get("element_count")
        for result in suite_result.results
        if isinstance(result.result, dict)
    ]
    return max((count for count in counts if isinstance(count, int)), default=None)


def _sql_rule_examples(database: Path, batch_query: str, suite_result: Any) -> dict[int, list]:
    """A few failing rows of each failed SQL-written expectation, keyed by result position.

    GX returns those rows only in its COMPLETE result format, which would also make every
    column expectation fetch all of its failing values; a bounded query of our own is cheaper.
    """
    failed = {
        position: expectation_result.expectation_config.kwargs["unexpected_rows_query"]
        for position, expectation_result in enumerate(suite_result.results)
        if expectation_result.expectation_config.type == "unexpected_rows_expectation"
        and not expectation_result.success
    }
    if not failed:
        return {}
    examples = {}
    with duckdb.connect(str(database)) as conn:
        conn.execute(f"set memory_limit = '{settings.duckdb_memory_limit()}'")
        for position, query in failed.items():
            sql = query.format(batch=f"({batch_query}) as batch")
            try:
                relation = conn.sql(f"select * from ({sql}) limit {EXAMPLE_COUNT}")
                columns = relation.columns
                rows = relation.fetchall()
            except duckdb.Error:
                continue  # the expectation's own error is already in its result
            # One column (a pattern rule): the bare values read best, as for column rules.
            examples[position] = [
                row[0] if len(columns) == 1 else dict(zip(columns, row, strict=True))
                for row in rows
            ]
    return examples


def _table_columns(engine: sa.Engine, spec: contract.Export) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select column_name from information_schema.columns "
                "where table_schema = :schema and table_name = :table"
            ),
            {"schema": spec.schema, "table": spec.table},
        ).fetchall()
    return {row[0] for row in rows}


def _unvalidated_outcome(
    spec: contract.Export, refresh_id: str | None, validated_at: datetime, columns: set[str]
) -> ValidationOutcome:
    """The outcome when the raw table is missing or lacks a contract column.

    An optional export that was never delivered has nothing to validate. A missing required
    table or column means the load step did not run or the table drifted from the contract; GX
    would report every expectation on it as an error (one failed query also aborts the shared
    connection's transaction and muddles the rest), so the cause is named once instead.
    """
    if not columns:
        failures = [] if spec.optional_export else [f"{spec.relation}: table does not exist"]
    else:
        missing = [name for name in spec.column_names if name not in columns]
        failures = [f"{spec.relation}: raw table lacks contract columns {', '.join(missing)}"]
    return ValidationOutcome(
        export=spec.name,
        relation=spec.relation,
        refresh_id=refresh_id,
        success=not failures,
        results=[],
        critical_failures=failures,
        validated_at=validated_at,
    )


def _outcome(
    spec: contract.Export,
    refresh_id: str | None,
    validated_at: datetime,
    suite_result: Any,
    examples: dict[int, list] | None = None,
) -> ValidationOutcome:
    examples = examples or {}
    batch_rows = next(
        (
            r.result["element_count"]
            for r in suite_result.results
            if r.result and "element_count" in r.result
        ),
        None,
    )
    results, critical_failures, warnings = [], [], []
    for position, expectation_result in enumerate(suite_result.results):
        row = _result_row(
            spec,
            refresh_id,
            validated_at,
            expectation_result,
            batch_rows,
            examples.get(position, []),
        )
        results.append(row)
        if not row["success"]:
            message = _failure_message(spec, row, expectation_result)
            (critical_failures if row["is_critical"] else warnings).append(message)
    return ValidationOutcome(
        export=spec.name,
        relation=spec.relation,
        refresh_id=refresh_id,
        success=not critical_failures,
        results=results,
        critical_failures=critical_failures,
        warnings=warnings,
        validated_at=validated_at,
    )


def _result_row(
    spec: contract.Export,
    refresh_id: str | None,
    validated_at: datetime,
    expectation_result: Any,
    batch_rows: int | None,
    sql_examples: list,
) -> dict[str, Any]:
    config = expectation_result.expectation_config
    meta = config.meta or {}
    result = expectation_result.result or {}
    if "unexpected_count" in result:
        unexpected_count = result["unexpected_count"]
        element_count = result.get("element_count", batch_rows)
        examples = result.get("partial_unexpected_list") or []
    elif config.type == "unexpected_rows_expectation" and "observed_value" in result:
        unexpected_count = result["observed_value"]
        element_count = batch_rows
        examples = sql_examples
    else:
        unexpected_count, element_count, examples = None, batch_rows, []
    if unexpected_count is None and element_count == 0:
        unexpected_count = 0  # GX leaves it out on an empty batch; nothing failed
    kwargs = {key: value for key, value in config.kwargs.items() if key != "batch_id"}
    details: dict[str, Any] = {"kwargs": kwargs}
    if "observed_value" in result:
        details["observed_value"] = result["observed_value"]
    error = _error_message(expectation_result)
    if error:
        details["error"] = error
    return {
        "refresh_id": refresh_id,
        "export": spec.name,
        "relation": spec.relation,
        "expectation_type": config.type,
        "column_name": meta.get("column_name"),
        "rule": meta.get("rule"),
        "is_critical": bool(meta.get("critical")),
        "success": bool(expectation_result.success),
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "unexpected_examples": _json(examples[:EXAMPLE_COUNT]),
        "details": _json(details),
        "validated_at": validated_at,
    }


def _error_message(expectation_result: Any) -> str | None:
    info = expectation_result.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    # Several metrics failing at once are reported keyed by metric id.
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _failure_message(spec: contract.Export, row: dict[str, Any], expectation_result: Any) -> str:
    rule = row["rule"] or row["expectation_type"]
    error = _error_message(expectation_result)
    if error:
        return f"{spec.relation}: {rule} could not be checked ({error})"
    if row["unexpected_count"] is None:
        return f"{spec.relation}: {rule} failed"
    rows = f"{row['unexpected_count']:,} of {row['element_count'] or 0:,} rows"
    # A null is its own explanation ("is not null failed"); show only values that say more.
    examples = [value for value in json.loads(row["unexpected_examples"]) if value is not None][:3]
    shown = f" (e.g. {', '.join(_short(value) for value in examples)})" if examples else ""
    return f"{spec.relation}: {rule} failed for {rows}{shown}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _quiet_gx_logging() -> None:
    # GX logs every metric it resolves at INFO; the asset check reports what matters.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


# ---------------------------------------------------------------------------------------------
# Audit and docs


def record_outcome(conn: duckdb.DuckDBPyConnection, outcome: ValidationOutcome) -> None:
    """Append the per-expectation results to audit.expectation_results (created if missing)."""
    for statement in RESULTS_DDL:
        conn.execute(statement)
    if not outcome.results:
        return
    columns = ", ".join(RESULT_FIELDS)
    placeholders = ", ".join("?" for _ in RESULT_FIELDS)
    conn.executemany(
        f"insert into {RESULTS_TABLE} ({columns}) values ({placeholders})",
        [[row[name] for name in RESULT_FIELDS] for row in outcome.results],
    )


def _write_docs_index(docs_dir: Path, outcome: ValidationOutcome) -> None:
    """The export's summary beside its site, and the page over every export's site."""
    summary = {
        "export": outcome.export,
        "relation": outcome.relation,
        "refresh_id": outcome.refresh_id,
        "success": outcome.success,
        "validated_at": outcome.validated_at,
        "critical_failures": outcome.critical_failures,
        "warnings": outcome.warnings,
    }
    (docs_dir / outcome.export / OUTCOME_FILE).write_text(_json(summary))
    docs_site.write_data_docs_index(docs_dir)
