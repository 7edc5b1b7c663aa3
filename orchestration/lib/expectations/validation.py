"""Running an export's suite: GX by SQL push-down inside the DuckDB file, on the rows one refresh
loaded (the whole table when they are all of it), with a few failing rows of each failed rule.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import jinja2
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import TestConnectionError
from great_expectations.execution_engine import sqlalchemy_execution_engine
from great_expectations.render.view import view as gx_view

from orchestration.lib import contract, settings
from orchestration.lib.expectations import suites
from orchestration.lib.expectations.results import (
    DOCS_SITE,
    ValidationOutcome,
    as_json,
    write_docs_index,
)

# Enough failing values for a person to recognise the problem; GX never fetches more than this.
EXAMPLE_COUNT = 5
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLE_COUNT}


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


class _CompiledTemplates(jinja2.BytecodeCache):
    """The Data Docs templates as Jinja compiled them, kept for the life of the process. Jinja
    keys each entry by the template's name and checks it against a checksum of its source, so an
    edited or custom template is compiled again, never served stale."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.compiled = 0  # templates Jinja compiled (and handed here) in this process

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code
            self.compiled += 1

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._code)


COMPILED_TEMPLATES = _CompiledTemplates()


def let_gx_reuse_compiled_templates() -> None:
    """Give every GX page view the process's compiled templates (a private-API patch).

    GX renders each Data Docs page through a `DefaultJinjaView` that builds a Jinja environment of
    its own, so a check compiled the same fifty-odd templates again for every export: about a
    third of a check's time. Jinja's public `bytecode_cache` lets environments share compiled
    templates; GX offers no setting for it, so the view's constructor is wrapped to set it.
    `tests/quality/test_expectations.py` fails loudly if GX renames the view or its `env`.
    """
    view = gx_view.DefaultJinjaView
    if getattr(view.__init__, "_shares_compiled_templates", False):
        return
    constructor = view.__init__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        constructor(self, *args, **kwargs)
        self.env.bytecode_cache = COMPILED_TEMPLATES

    __init__._shares_compiled_templates = True  # type: ignore[attr-defined]
    view.__init__ = __init__  # type: ignore[method-assign]


class _DialectName(str):
    @property
    def value(self) -> str:
        return str(self)


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
    spec = suites.export_spec(export)
    database = Path(database).resolve()
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    state = _table_state(database, spec, refresh_id)
    if not state.columns or set(spec.column_names) - state.columns:
        return _unvalidated_outcome(spec, refresh_id, validated_at, state.columns)
    # A refresh that loaded no row of the export has nothing new to validate, and every rule of
    # a suite passes on no rows (`test_a_batch_of_no_rows_skips_gx_with_the_outcome_gx_gives`):
    # the outcome is written without starting GX, which cost each such export 0.3-0.9 s of every
    # daily refresh. The export's Data Docs page keeps the last validation of real rows; when
    # there is none yet, GX runs to write one.
    existing = Path(published_docs_dir or docs_dir or ".").resolve() / export / "index.html"
    if state.batch_rows(refresh_id) == 0 and (docs_dir is None or existing.exists()):
        outcome = empty_batch_outcome(spec, refresh_id, validated_at)
        if docs_dir is not None:
            outcome.docs_index = existing
        return outcome
    let_gx_keep_one_duckdb_connection()
    let_gx_reuse_compiled_templates()
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
        batch_query = _batch_query(spec, _batch_refresh_id(state, refresh_id))
        asset = datasource.add_query_asset(name=spec.relation, query=batch_query)
        batch_definition = asset.add_batch_definition_whole_table(name="batch")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=spec.relation))
        for expectation, critical in suites.suite(export):
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
        write_docs_index(Path(docs_dir).resolve(), outcome)
    elif export_docs is not None:
        outcome.docs_index = existing
    return outcome


@dataclass(frozen=True)
class _TableState:
    """The raw table's columns, its rows, and the rows of the refresh being validated."""

    columns: set[str]
    rows: int
    rows_of_refresh: int

    def batch_rows(self, refresh_id: str | None) -> int:
        return self.rows if refresh_id is None else self.rows_of_refresh


def _table_state(database: Path, spec: contract.Export, refresh_id: str | None) -> _TableState:
    """Read with a connection of its own, closed before GX opens the file with its settings."""
    with duckdb.connect(str(database)) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [spec.schema, spec.table],
            ).fetchall()
        }
        if not columns or set(spec.column_names) - columns:
            return _TableState(columns, 0, 0)
        conn.execute(f"set memory_limit = '{settings.duckdb_memory_limit()}'")
        rows, rows_of_refresh = conn.execute(
            f"select count(*), count(*) filter (where _refresh_id = ?) from {spec.relation}",
            [refresh_id],
        ).fetchone()
    return _TableState(columns, rows, rows_of_refresh)


def _batch_refresh_id(state: _TableState, refresh_id: str | None) -> str | None:
    """The refresh id the batch query filters on: None when that refresh's rows are every row of
    the table (a first or full load), so the batch is the table itself.

    The same rows either way, but DuckDB plans the reference rules' `not exists` over a filtered
    batch by materialising every column of every row first: at 98.6M events of one refresh the
    usage events' reference rule took 43 s filtered and 0.5 s unfiltered. A daily batch is a
    small part of the table and stays filtered (0.5 s for 273k new rows beside 98.6M)."""
    if refresh_id is None or state.rows == state.rows_of_refresh:
        return None
    return refresh_id


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


def empty_batch_outcome(
    spec: contract.Export, refresh_id: str | None, validated_at: datetime
) -> ValidationOutcome:
    """The outcome of the export's suite on a batch of no rows, as GX reports it (every
    expectation passes with nothing counted; a SQL-written one observed no row), without GX."""
    results = []
    for expectation, critical in suites.suite(spec.name):
        meta = expectation.meta or {}
        config = expectation.configuration
        details: dict[str, Any] = {
            "kwargs": {key: value for key, value in config.kwargs.items() if key != "batch_id"}
        }
        if config.type == "unexpected_rows_expectation":
            details["observed_value"] = 0
        results.append(
            _row(
                spec, refresh_id, validated_at, config.type, meta, is_critical=critical,
                success=True, element_count=0, unexpected_count=0, examples=[], details=details,
            )
        )  # fmt: skip
    return ValidationOutcome(
        export=spec.name,
        relation=spec.relation,
        refresh_id=refresh_id,
        success=True,
        results=results,
        critical_failures=[],
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
    return _row(
        spec,
        refresh_id,
        validated_at,
        config.type,
        meta,
        is_critical=bool(meta.get("critical")),
        success=bool(expectation_result.success),
        element_count=element_count,
        unexpected_count=unexpected_count,
        examples=examples[:EXAMPLE_COUNT],
        details=details,
    )


def _row(
    spec: contract.Export,
    refresh_id: str | None,
    validated_at: datetime,
    expectation_type: str,
    meta: dict[str, Any],
    *,
    is_critical: bool,
    success: bool,
    element_count: int | None,
    unexpected_count: int | None,
    examples: list,
    details: dict[str, Any],
) -> dict[str, Any]:
    """One row of audit.expectation_results (RESULT_FIELDS)."""
    return {
        "refresh_id": refresh_id,
        "export": spec.name,
        "relation": spec.relation,
        "expectation_type": expectation_type,
        "column_name": meta.get("column_name"),
        "rule": meta.get("rule"),
        "is_critical": is_critical,
        "success": success,
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "unexpected_examples": as_json(examples),
        "details": as_json(details),
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


def _quiet_gx_logging() -> None:
    # GX logs every metric it resolves at INFO; the asset check reports what matters.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
