"""Every query of the dashboard, and its caching. Pages hold no SQL.

The published warehouse is one DuckDB file that the refresh replaces atomically. DuckDB's file
locks are exclusive both ways (STACK.md), so each query opens the file read-only and closes it at
once: a reader that lingers would make the next publish fail. Results are cached on the file's
identity (inode, size, mtime) as well as a TTL, so a newly published build shows on the next rerun.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from lib.format import as_utc
from orchestration.lib import settings

CACHE_TTL = "10m"
EXAMPLES_PER_RULE = 3


class QueryFailed(Exception):
    """A query could not run: `sentence` is for the reader, `details` for the expander."""

    def __init__(self, sentence: str, details: str) -> None:
        super().__init__(f"{sentence} {details}")
        self.sentence = sentence
        self.details = details


@dataclass(frozen=True)
class Warehouse:
    path: Path
    version: str | None  # identity of the published file; None while there is none

    @property
    def exists(self) -> bool:
        return self.version is not None


@dataclass(frozen=True)
class RefreshAttempt:
    """The last refresh attempt, published or failed, from the status file beside the warehouse."""

    refresh_id: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    reason: str | None

    @property
    def failed(self) -> bool:
        return self.status != "published"


def warehouse() -> Warehouse:
    # Read on every rerun rather than at import: the env var may point elsewhere per test or server.
    path = settings.warehouse_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Warehouse(path, None)
    # os.replace gives the published file a new inode: a same-second publish still misses the cache.
    return Warehouse(path, f"{stat.st_ino}-{stat.st_size}-{stat.st_mtime_ns}")


def last_refresh_attempt() -> RefreshAttempt | None:
    status_path = settings.refresh_status_path(warehouse().path)
    if not status_path.exists():
        return None
    try:
        status = json.loads(status_path.read_text(encoding="utf-8"))
        return RefreshAttempt(
            refresh_id=status.get("refresh_id"),
            status=str(status.get("status") or "unknown"),
            started_at=as_utc(status.get("started_at")),
            finished_at=as_utc(status.get("finished_at")),
            reason=status.get("reason"),
        )
    except (OSError, ValueError, AttributeError) as error:
        raise QueryFailed(
            "The status of the last refresh attempt could not be read.",
            f"{status_path}: {error!r}",
        ) from error


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _cached_read(path: str, version: str, sql: str, params: tuple) -> pd.DataFrame:
    del version  # only part of the cache key
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql, list(params)).df()


def _read(what: str, sql: str, params: tuple = ()) -> pd.DataFrame:
    current = warehouse()
    if not current.exists:
        raise QueryFailed(f"Could not read {what}.", f"No warehouse file at {current.path}.")
    try:
        return _cached_read(str(current.path), current.version, sql, params)
    except duckdb.Error as error:
        raise QueryFailed(f"Could not read {what}.", f"{type(error).__name__}: {error}") from error


def _refresh_params(refresh_id: str | None) -> tuple:
    # `refresh_id = None` means every refresh; SQL sees it twice (the null test and the match).
    return (refresh_id, refresh_id)


_IN_REFRESH = "(cast(? as varchar) is null or refresh_id = ?)"


# ---- freshness -------------------------------------------------------------------------------


def data_as_of() -> datetime | None:
    frame = _read(
        "the data's as-of time",
        "select max(data_as_of) as data_as_of from marts.rpt_data_as_of",
    )
    return as_utc(frame["data_as_of"].iloc[0]) if len(frame) else None


def refresh_history() -> pd.DataFrame:
    """One row per published refresh, newest first."""
    return _read(
        "the refresh history",
        """
        select
            refresh_id,
            started_at,
            finished_at,
            status,
            data_as_of,
            files_loaded,
            rows_loaded,
            rows_quarantined,
            message
        from audit.refresh_log
        order by finished_at desc nulls last, started_at desc
        """,
    )


def latest_refresh_id() -> str | None:
    """The refresh that published the build being served (refresh_log), else the newest load."""
    history = refresh_history()
    if len(history):
        return str(history["refresh_id"].iloc[0])
    newest_load = _read(
        "the load report",
        "select refresh_id from audit.load_report order by loaded_at desc nulls last limit 1",
    )
    return str(newest_load["refresh_id"].iloc[0]) if len(newest_load) else None


# ---- loads -----------------------------------------------------------------------------------


def load_totals(refresh_id: str | None) -> pd.Series:
    """files_loaded, files_skipped, files_rejected, rows_read/loaded/duplicate/quarantined."""
    frame = _read(
        "the load totals",
        f"""
        select
            count(*) filter (where status = 'loaded') as files_loaded,
            count(*) filter (where status = 'skipped_already_loaded') as files_skipped,
            count(*) filter (where status = 'rejected') as files_rejected,
            coalesce(sum(rows_read), 0) as rows_read,
            coalesce(sum(rows_loaded), 0) as rows_loaded,
            coalesce(sum(rows_duplicate), 0) as rows_duplicate,
            coalesce(sum(rows_quarantined), 0) as rows_quarantined
        from audit.load_report
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def load_report(refresh_id: str | None) -> pd.DataFrame:
    """One row per landing file seen by the refresh (all refreshes when refresh_id is None)."""
    return _read(
        "the load report",
        f"""
        select
            refresh_id,
            loaded_at,
            file_name,
            export,
            status,
            rows_read,
            rows_loaded,
            rows_duplicate,
            rows_quarantined,
            message,
            content_sha256
        from audit.load_report
        where {_IN_REFRESH}
        order by loaded_at desc nulls last, file_name
        """,
        _refresh_params(refresh_id),
    )


# ---- quarantine ------------------------------------------------------------------------------


def quarantine_by_rule(refresh_id: str | None) -> pd.DataFrame:
    return _read(
        "the quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        by_rule as (
            select
                export,
                rule,
                count(*) as rows_quarantined,
                count(distinct file_name) as files
            from quarantined
            group by export, rule
        )

        select * from by_rule
        order by rows_quarantined desc, export, rule
        """,
        _refresh_params(refresh_id),
    )


def quarantined_rows(refresh_id: str | None) -> pd.DataFrame:
    """Every column the loader keeps, for the download: the reader may need all of them."""
    return _read(
        "the quarantined rows",
        f"""
        select * from audit.quarantine
        where {_IN_REFRESH}
        order by export, file_name, row_number
        """,
        _refresh_params(refresh_id),
    )


def quarantine_examples(refresh_id: str | None, per_rule: int = EXAMPLES_PER_RULE) -> pd.DataFrame:
    """The first few quarantined rows of each export and rule: what a broken row looks like."""
    return _read(
        "examples of quarantined rows",
        f"""
        with

        quarantined as (select * from audit.quarantine where {_IN_REFRESH}),

        ranked as (
            select
                export,
                rule,
                file_name,
                row_number,
                raw_record,
                row_number() over (
                    partition by export, rule order by file_name, row_number
                ) as example_rank
            from quarantined
        )

        select * exclude (example_rank) from ranked
        where example_rank <= ?
        order by export, rule, example_rank
        """,
        (*_refresh_params(refresh_id), per_rule),
    )


# ---- expectations ----------------------------------------------------------------------------


def expectation_totals(refresh_id: str | None) -> pd.Series:
    """expectations_run, expectations_failed, critical_failed."""
    frame = _read(
        "the expectation results",
        f"""
        select
            count(*) as expectations_run,
            count(*) filter (where not success) as expectations_failed,
            count(*) filter (where not success and is_critical) as critical_failed
        from audit.expectation_results
        where {_IN_REFRESH}
        """,
        _refresh_params(refresh_id),
    )
    return frame.iloc[0]


def expectation_results(refresh_id: str | None) -> pd.DataFrame:
    """Failed first, critical before warning, so the reader starts with what blocked a build."""
    return _read(
        "the expectation results",
        f"""
        select
            case
                when success then 'passed'
                when is_critical then 'FAILED (critical)'
                else 'failed (warning)'
            end as outcome,
            success,
            is_critical,
            export,
            relation,
            expectation_type,
            column_name,
            element_count,
            unexpected_count,
            unexpected_count / nullif(element_count, 0) as unexpected_rate,
            unexpected_examples,
            details,
            refresh_id,
            validated_at
        from audit.expectation_results
        where {_IN_REFRESH}
        order by success, is_critical desc, export, expectation_type, column_name
        """,
        _refresh_params(refresh_id),
    )


# ---- sidebar filters -------------------------------------------------------------------------


def segments() -> list[str]:
    frame = _read(
        "the segments",
        "select distinct segment from marts.fct_account_month where segment is not null order by 1",
    )
    return [str(segment) for segment in frame["segment"]]


def months() -> list[datetime]:
    frame = _read(
        "the months",
        "select distinct month from marts.fct_account_month where month is not null order by 1",
    )
    return [pd.Timestamp(month).to_pydatetime() for month in frame["month"]]


def clear_cache() -> None:
    _cached_read.clear()


# ---- definitions and settings from dbt (rpt_metric_definitions, rpt_settings) -----------------


def metric_definitions() -> pd.DataFrame:
    """One row per metric: metric, label, definition (its dbt docs block), unit."""
    return _read(
        "the metric definitions",
        "select metric, label, definition, unit from marts.rpt_metric_definitions",
    )


def settings_in_force() -> pd.DataFrame:
    """Every setting of the published build: name, value, default_value, description, unit."""
    return _read(
        "the settings in force",
        """
        select name, value, default_value, description, unit, is_overridden
        from marts.rpt_settings
        where is_known_setting
        order by setting_position
        """,
    )


# ---- the migration decision (issue 9) --------------------------------------------------------

# The columns of fct_migration_triggers that rpt_trigger_sql's verdict recomputes; the rest are
# its inputs (the signals and the proposals' trailing shadow billing).
TRIGGER_VERDICT_COLUMNS = (
    "is_value_leaving", "is_proposal_viable", "proposal_failure_reason", "is_triggered",
    "triggered_since", "segment_status",
)  # fmt: skip


def migration_triggers() -> pd.DataFrame:
    """fct_migration_triggers, every segment x month x proposal, as the build judged it."""
    return _read(
        "the migration trigger",
        "select * exclude (migration_trigger_id) from marts.fct_migration_triggers"
        " order by segment, month, price_model_id",
    )


@st.cache_resource(max_entries=2, show_spinner=False)
def _trigger_workspace(path: str, version: str) -> tuple[duckdb.DuckDBPyConnection, str, list[str]]:
    """An in-memory DuckDB: the build's trigger signals and verdict SQL (rpt_trigger_sql)."""
    del version  # only part of the cache key
    workspace = duckdb.connect()
    escaped = path.replace("'", "''")
    workspace.execute(f"attach '{escaped}' as published (read_only)")
    try:
        verdicts = ", ".join(TRIGGER_VERDICT_COLUMNS)
        workspace.execute(
            "create table trigger_signals as select * exclude (migration_trigger_id, "
            f"{verdicts}) from published.marts.fct_migration_triggers"
        )
        sql, names = workspace.execute(
            "select sql_text, parameter_names from published.marts.rpt_trigger_sql"
            " where sql_name = 'judge'"
        ).fetchone()
    finally:
        workspace.execute("detach published")
    return workspace, sql, names.split(",")


def trigger_what_if(thresholds: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    """fct_migration_triggers re-judged under other thresholds (setting name, value), with the
    build's own verdict SQL; a threshold not given keeps its value in force."""
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not re-judge the trigger.", f"No warehouse file at {current.path}."
        )
    try:
        workspace, sql, names = _trigger_workspace(str(current.path), current.version)
        in_force = settings_in_force().set_index("name")["value"]
        values = {name: float(in_force[name]) for name in names} | dict(thresholds)
        with workspace.cursor() as cursor:
            frame = cursor.execute(
                f"select * from ({sql}) as verdicts order by segment, month, price_model_id",
                {name: float(values[name]) for name in names},
            ).df()
    except (duckdb.Error, KeyError, ValueError) as error:
        raise QueryFailed(
            "Could not re-judge the trigger with these thresholds.",
            f"{type(error).__name__}: {error}",
        ) from error
    return frame[[column for column in migration_triggers().columns if column in frame]]


def trigger_threshold_names() -> list[str]:
    """The settings the trigger's verdict reads (rpt_trigger_sql binds one parameter each)."""
    frame = _read(
        "the trigger's thresholds",
        "select parameter_names from marts.rpt_trigger_sql where sql_name = 'judge'",
    )
    return str(frame["parameter_names"].iloc[0]).split(",") if len(frame) else []


def pilot_accounts(segment: str, price_model_id: str) -> pd.DataFrame:
    """The pilot list of one segment under one proposal, best fit first (fct_pilot_accounts)."""
    return _read(
        "the pilot list",
        """
        select
            pilots.fit_rank, pilots.account_id, accounts.account_name, pilots.segment,
            pilots.price_model_id, pilots.is_pilot_eligible, pilots.fit_score,
            pilots.bill_change_pct, pilots.automation_share, pilots.margin_change,
            pilots.actual_usd, pilots.shadow_usd, pilots.shocked_months,
            pilots.billable_seats, pilots.actual_gross_margin, pilots.shadow_gross_margin,
            pilots.bill_fit, pilots.automation_fit, pilots.margin_fit, pilots.as_of_month,
            pilots.window_months
        from marts.fct_pilot_accounts as pilots
        left join marts.dim_accounts as accounts on pilots.account_id = accounts.account_id
        where pilots.segment = ? and pilots.price_model_id = ?
        order by pilots.fit_rank
        """,
        (segment, price_model_id),
    )


def price_model_names() -> dict[str, str]:
    frame = _read("the price models", "select price_model_id, name from marts.dim_price_models")
    return dict(zip(frame["price_model_id"], frame["name"], strict=True))


# ---- billing integrity (issue 3) -------------------------------------------------------------


def _billing_period_clause(column: str, period: tuple | None) -> tuple[str, tuple]:
    if period is None:
        return "true", ()
    return f"{column} between ? and ?", (period[0], period[1])


def billing_accuracy_trend(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Accuracy per month for the chosen segments, or for `all` when none is chosen."""
    chosen = segments or ("all",)
    period_sql, period_params = _billing_period_clause("month", period)
    return _read(
        "the invoice accuracy",
        f"""
        select month, segment, judged_lines, matching_lines, mismatched_lines, missing_lines,
            line_match_rate, amount_match_rate, judged_amount_usd, matching_amount_usd,
            accuracy_bar, meets_bar
        from marts.fct_invoice_accuracy_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (list(chosen), *period_params),
    )


def billing_accuracy_totals(segments: tuple[str, ...], period: tuple | None) -> pd.Series:
    """Accuracy over the whole period and in its latest month, for the chosen segments."""
    chosen = segments or ("all",)
    period_sql, period_params = _billing_period_clause("month", period)
    frame = _read(
        "the invoice accuracy",
        f"""
        with chosen as (
            select month, sum(judged_lines) as judged_lines, sum(matching_lines) as matching_lines,
                sum(judged_amount_usd) as judged_amount_usd,
                sum(matching_amount_usd) as matching_amount_usd, max(accuracy_bar) as accuracy_bar
            from marts.fct_invoice_accuracy_monthly
            where list_contains(?, segment) and {period_sql}
            group by month
        )
        select
            max(month) as latest_month,
            max(accuracy_bar) as accuracy_bar,
            sum(judged_lines) as judged_lines,
            sum(judged_lines) - sum(matching_lines) as mismatched_lines,
            sum(matching_lines) / nullif(sum(judged_lines), 0) as line_match_rate,
            sum(matching_amount_usd) / nullif(sum(judged_amount_usd), 0) as amount_match_rate,
            arg_max(matching_lines / nullif(judged_lines, 0), month) as latest_line_match_rate
        from chosen
        """,
        (list(chosen), *period_params),
    )
    return frame.iloc[0]


def billing_mismatches(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Every judged row that does not match, with its evidence."""
    period_sql, period_params = _billing_period_clause("invoice_month", period)
    return _read(
        "the invoice mismatches",
        f"""
        select mismatch_reason, mismatch_detail, invoice_id, line_id, source_event_id,
            account_id, segment, invoice_status, invoice_month, period_start, line_type,
            currency, expected_amount, invoiced_amount, amount_difference,
            invoiced_quantity, expected_quantity, invoiced_unit_amount, expected_unit_amount
        from marts.fct_invoice_reconciliation
        where is_match = false
            and (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        order by invoice_month desc, account_id, invoice_id, line_id
        """,
        (list(segments), list(segments), *period_params),
    )


def billing_subtotal_mismatches() -> pd.DataFrame:
    return _read(
        "the invoice subtotals",
        """
        select invoice_id, account_id, invoice_status, issued_at, currency, subtotal,
            lines_amount, tax, total, is_subtotal_match, is_total_match
        from marts.fct_invoice_checks
        where not is_subtotal_match or not is_total_match
        order by issued_at desc, invoice_id
        """,
    )


def billing_accounts() -> pd.DataFrame:
    """Accounts with invoices, the ones with mismatches first."""
    return _read(
        "the billed accounts",
        """
        select account_id, any_value(account_name) as account_name,
            sum(mismatched_lines) as mismatched_lines, count(*) as invoices
        from marts.fct_invoice_checks
        group by account_id
        order by sum(mismatched_lines) > 0 desc, account_id
        """,
    )


def billing_invoices(account_id: str) -> pd.DataFrame:
    return _read(
        "the account's invoices",
        """
        select invoice_id, invoice_status, period_start, period_end, issued_at, currency,
            subtotal, tax, total, lines_amount, line_count, is_subtotal_match, is_total_match,
            mismatched_lines, missing_prorations, account_name, segment
        from marts.fct_invoice_checks
        where account_id = ?
        order by issued_at desc, invoice_id desc
        """,
        (account_id,),
    )


def billing_invoice_lines(invoice_id: str) -> pd.DataFrame:
    """The invoice's lines and the expected lines it lacks, each with its evidence packet."""
    return _read(
        "the invoice's lines",
        """
        select reconciliation_id, line_id, line_kind, line_type, description, source_event_id,
            invoiced_quantity, expected_quantity, invoiced_unit_amount, expected_unit_amount,
            invoiced_amount, expected_amount, reconciliation_status, is_match, mismatch_reason,
            mismatch_detail, source_event_type, source_event_effective_at,
            seats_before_source_event, seats_after_source_event, source_event_is_voided,
            billable_seats_at_previous_period_start, seat_event_count, correction_trail,
            account_name, country, currency, plan_name, period_start, period_end,
            previous_period_start
        from marts.fct_invoice_line_evidence
        where invoice_id = ?
        order by line_id nulls last, reconciliation_id
        """,
        (invoice_id,),
    )


def billing_line_events(reconciliation_id: str) -> pd.DataFrame:
    """The seat events behind one line, in ledger order."""
    return _read(
        "the line's seat events",
        """
        select evidence_role, event_id, event_type, quantity, seats_delta, effective_at,
            recorded_at, is_back_dated, is_voided, voided_by_event_id, corrects_event_id,
            billable_seats_before, billable_seats_after, user_id, source, ledger_sequence
        from marts.fct_invoice_line_seat_events
        where reconciliation_id = ?
        order by ledger_sequence
        """,
        (reconciliation_id,),
    )


# ---- revenue, retention and value shift (issue 4) --------------------------------------------


def _revenue_segments(segments: tuple[str, ...]) -> list[str]:
    """The marts carry a precomputed `all` row; pooled figures are never re-added in pandas."""
    return list(segments) if segments else ["all"]


def _revenue_period(column: str, period: tuple | None) -> tuple[str, tuple]:
    if period is None:
        return "true", ()
    return f"{column} between ? and ?", (period[0], period[1])


def revenue_portfolio(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """rpt_revenue_portfolio_monthly for the chosen segments (or `all`), oldest month first."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the revenue portfolio series",
        f"""
        select * from marts.rpt_revenue_portfolio_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_revenue_segments(segments), *period_params),
    )


def nrr_monthly(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the NRR and GRR",
        f"""
        select month, segment, base_accounts, base_mrr_usd, current_mrr_usd, retained_mrr_usd,
            nrr, grr
        from marts.fct_nrr_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_revenue_segments(segments), *period_params),
    )


def cohort_retention(period: tuple | None) -> pd.DataFrame:
    """Cohorts that started in the period, every month since (the mart is not by segment)."""
    period_sql, period_params = _revenue_period("cohort_month", period)
    return _read(
        "the cohort retention",
        f"""
        select cohort_month, months_since_start, month, cohort_accounts, retained_accounts,
            mrr_usd, starting_mrr_usd, nrr, logo_retention
        from marts.fct_cohort_retention
        where {period_sql}
        order by cohort_month, months_since_start
        """,
        period_params,
    )


def bill_shock_monthly(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """The real invoices' bill-shock rate (price model `current`)."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the bill-shock rate",
        f"""
        select month, segment, billed_accounts, judged_accounts, shocked_accounts,
            bill_shock_rate
        from marts.fct_bill_shock_monthly
        where price_model_id = 'current' and list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_revenue_segments(segments), *period_params),
    )


def automation_by_segment(period: tuple | None) -> pd.DataFrame:
    """Automation share of every segment (not only the chosen ones: it is a comparison)."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the automation share",
        f"""
        select month, segment, tasks, agent_tasks, automation_share, seat_utilization,
            tasks_per_seat, tokens_per_seat, billable_seats
        from marts.rpt_revenue_portfolio_monthly
        where segment != 'all' and {period_sql}
        order by month, segment
        """,
        period_params,
    )


def account_value(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """One row per account over the period: seats at its end, usage per seat, revenue, cost,
    margin and the months it was a power user."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the accounts' value",
        f"""
        with

        chosen as (
            select * from marts.fct_account_month
            where (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        ),

        per_account as (
            select
                account_id,
                any_value(segment) as segment,
                arg_max(billable_seats, month) as billable_seats,
                sum(tasks) as tasks,
                sum(input_tokens + output_tokens) as tokens,
                sum(billable_seats) as seat_months,
                sum(mrr_usd) as mrr_usd,
                sum(cost_to_serve_usd) as cost_to_serve_usd,
                count(*) filter (where is_power_user) as power_user_months,
                avg(automation_share) as automation_share
            from chosen
            group by account_id
        )

        select
            *,
            tasks / nullif(seat_months, 0) as tasks_per_seat,
            tokens / nullif(seat_months, 0) as tokens_per_seat,
            (mrr_usd - cost_to_serve_usd) / nullif(mrr_usd, 0) as gross_margin,
            cost_to_serve_usd > mrr_usd and mrr_usd > 0 as is_power_user
        from per_account
        where mrr_usd > 0 or cost_to_serve_usd > 0
        order by gross_margin nulls last, account_id
        """,
        (list(segments), list(segments), *period_params),
    )


# ---- shadow billing (issue 5) ----------------------------------------------------------------
# The what-if runs the rating SQL that the build published (marts.rpt_rating_sql) in an in-memory
# DuckDB over the monthly quantities (never the events), so an edited proposal is rated and judged
# exactly as the shipped price book was.

WHAT_IF_COMPONENT_COLUMNS = (
    "price_model_id", "component_id", "metric", "charge_model", "unit_size", "unit_amount",
    "flat_amount", "package_size", "package_amount", "free_units", "free_units_per_metric",
    "rate_pct", "fixed_amount", "pool_units", "rollover_pct", "rollover_periods", "minimum_amount",
)  # fmt: skip
WHAT_IF_TIER_COLUMNS = (
    "price_model_id", "component_id", "tier", "up_to", "per_unit_amount", "rate_pct",
    "flat_amount",
)  # fmt: skip


def price_models() -> pd.DataFrame:
    return _read(
        "the price models",
        """
        select price_model_id, name, description, is_current_model, components
        from marts.dim_price_models
        order by is_current_model desc, price_model_id
        """,
    )


def price_model_guardrails(models: tuple[str, ...]) -> pd.DataFrame:
    """Every model x segment (and `all`), with the current per-seat model for reference."""
    return _read(
        "the price models' guardrails",
        """
        select guardrails.*, models.name
        from marts.fct_price_model_guardrails as guardrails
        inner join marts.dim_price_models as models
            on guardrails.price_model_id = models.price_model_id
        where list_contains(?, guardrails.price_model_id) or models.is_current_model
        order by models.is_current_model desc, guardrails.price_model_id, guardrails.segment
        """,
        (list(models),),
    )


def shadow_revenue_monthly(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Actual and shadow revenue per month and model over the chosen segments."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the shadow revenue",
        f"""
        select month, price_model_id, sum(actual_usd) as actual_usd,
            sum(shadow_usd) as shadow_usd, sum(cost_to_serve_usd) as cost_to_serve_usd
        from marts.fct_shadow_invoice
        where list_contains(?, price_model_id) and (len(?) = 0 or list_contains(?, segment))
            and {period_sql}
        group by month, price_model_id
        order by month, price_model_id
        """,
        (list(models), list(segments), list(segments), *period_params),
    )


def shadow_bill_shock_monthly(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Bill-shock rate per month of the real invoices (`current`) and of the chosen models."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the shadow bill-shock rates",
        f"""
        select month, price_model_id, sum(billed_accounts) as billed_accounts,
            sum(shocked_accounts) as shocked_accounts,
            -- a month nobody could be judged in is a gap, not 0% (as in the mart)
            case when sum(judged_accounts) > 0
                then sum(shocked_accounts) / nullif(sum(billed_accounts), 0)
            end as bill_shock_rate
        from marts.fct_bill_shock_monthly
        where (price_model_id = 'current' or list_contains(?, price_model_id))
            and segment != 'all' and (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        group by month, price_model_id
        order by month, price_model_id
        """,
        (list(models), list(segments), list(segments), *period_params),
    )


def shadow_account_deltas(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Per account and model over the period: actual, shadow, delta, months shocked."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the accounts' shadow invoices",
        f"""
        select price_model_id, account_id, any_value(segment) as segment,
            sum(actual_usd) as actual_usd, sum(shadow_usd) as shadow_usd,
            sum(shadow_usd) - sum(actual_usd) as delta_usd,
            (sum(shadow_usd) - sum(actual_usd)) / nullif(sum(actual_usd), 0) as delta_pct,
            count(*) filter (where is_bill_shock) as shocked_months
        from marts.fct_shadow_invoice
        where list_contains(?, price_model_id) and (len(?) = 0 or list_contains(?, segment))
            and {period_sql}
        group by price_model_id, account_id
        order by abs(sum(shadow_usd) - sum(actual_usd)) desc
        """,
        (list(models), list(segments), list(segments), *period_params),
    )


def price_book(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A model's components and tiers, as the CSV columns of price_book.md."""
    params = (model,)
    components = _read(
        "the price book",
        f"""
        select {", ".join(WHAT_IF_COMPONENT_COLUMNS)} from marts.dim_price_components
        where price_model_id = ? order by component_id
        """,
        params,
    )
    tiers = _read(
        "the price book's tiers",
        f"""
        select {", ".join(WHAT_IF_TIER_COLUMNS)} from marts.dim_price_tiers
        where price_model_id = ? order by component_id, tier
        """,
        params,
    )
    return components, tiers


@st.cache_resource(max_entries=2, show_spinner=False)
def _rating_workspace(path: str, version: str) -> tuple[duckdb.DuckDBPyConnection, dict[str, str]]:
    """An in-memory DuckDB holding the build's quantities, actuals and rating SQL.

    Copied once per published build (the warehouse is attached read-only only for the copy, so
    no lock outlives it); every what-if then runs on a cursor of this connection, and the decimal
    quantities never round-trip through pandas.
    """
    del version  # only part of the cache key
    workspace = duckdb.connect()
    escaped = path.replace("'", "''")
    workspace.execute(f"attach '{escaped}' as published (read_only)")
    try:
        workspace.execute(
            """
            create table rating_usage as
            select account_id, month as period, metric, quantity, events
            from published.marts.fct_rating_quantities
            """
        )
        workspace.execute(
            """
            create table rating_actuals as
            select distinct account_id, month, segment, actual_usd, cost_to_serve_usd
            from published.marts.fct_rating_quantities
            """
        )
        sql = dict(
            workspace.execute(
                "select sql_name, sql_text from published.marts.rpt_rating_sql"
            ).fetchall()
        )
    finally:
        workspace.execute("detach published")
    return workspace, sql


def _rating_cursor() -> tuple[duckdb.DuckDBPyConnection, dict[str, str]]:
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not read the rated quantities.", f"No warehouse file at {current.path}."
        )
    try:
        workspace, sql = _rating_workspace(str(current.path), current.version)
    except duckdb.Error as error:
        raise QueryFailed(
            "Could not read the rated quantities.", f"{type(error).__name__}: {error}"
        ) from error
    return workspace.cursor(), sql


def _as_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Price-book cells as text, as in the CSVs: an empty cell is "not set"."""
    text = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column] if column in frame else pd.Series(None, index=frame.index)
        text[column] = [
            "" if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA
            else str(value)
            for value in values
        ]  # fmt: skip
    return text


def what_if(components: pd.DataFrame, tiers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Re-rate every rated account-month under an edited price book, in memory.

    Returns `guardrails` (model x segment, as fct_price_model_guardrails) and `accounts` (per
    account: actual, shadow, delta). Raises QueryFailed with the reason when the book is invalid.
    """
    connection, sql = _rating_cursor()
    try:
        with connection:
            connection.register(
                "rating_price_components", _as_text(components, WHAT_IF_COMPONENT_COLUMNS)
            )
            connection.register("rating_price_tiers", _as_text(tiers, WHAT_IF_TIER_COLUMNS))
            connection.execute(f"create or replace temp table rating_lines as {sql['rate_usage']}")
            connection.execute(
                "create or replace temp table rating_shadow_invoices as " + sql["shadow_invoices"]
            )
            guardrails = connection.execute(sql["summarise"]).df()
            accounts = connection.execute(
                """
                select price_model_id, account_id, any_value(segment) as segment,
                    sum(actual_usd) as actual_usd, sum(shadow_usd) as shadow_usd,
                    sum(shadow_usd) - sum(actual_usd) as delta_usd,
                    (sum(shadow_usd) - sum(actual_usd)) / nullif(sum(actual_usd), 0) as delta_pct,
                    count(*) filter (where is_bill_shock) as shocked_months
                from rating_shadow_invoices
                group by price_model_id, account_id
                order by abs(sum(shadow_usd) - sum(actual_usd)) desc
                """
            ).df()
    except duckdb.Error as error:
        raise QueryFailed(
            "Could not rate the edited price book; check its cells.",
            f"{type(error).__name__}: {error}",
        ) from error
    return {"guardrails": guardrails, "accounts": accounts}


def full_price_book() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole price book of the build (models, components, tiers), for the CSV download."""
    models = _read(
        "the price models", "select price_model_id, name, description from marts.dim_price_models"
    )
    components = _read(
        "the price book",
        f"select {', '.join(WHAT_IF_COMPONENT_COLUMNS)} from marts.dim_price_components",
    )
    tiers = _read(
        "the price book's tiers",
        f"select {', '.join(WHAT_IF_TIER_COLUMNS)} from marts.dim_price_tiers",
    )
    return models, components, tiers


# ---- value shift: usage mix and seats against usage per seat (issue 9) -------------------------

# The dimensions the usage mix can be read by; a column name goes into the SQL only from here.
USAGE_MIX_DIMENSIONS = ("feature", "model_tier")


def usage_mix_monthly(
    dimension: str, segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """fct_usage_mix_monthly by month x `dimension` (feature or model tier) x actor type, summed
    over the chosen segments (every segment when none is chosen), with each row's share of the
    actor type's tasks in the month (what agents spend their work on, against humans)."""
    if dimension not in USAGE_MIX_DIMENSIONS:
        raise ValueError(f"the usage mix is not read by {dimension!r}")
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the usage mix",
        f"""
        with

        chosen as (
            select * from marts.fct_usage_mix_monthly
            where (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        ),

        summed as (
            select
                month,
                {dimension},
                actor_type,
                sum(tasks) as tasks,
                sum(tokens) as tokens,
                sum(cost_to_serve_usd) as cost_to_serve_usd
            from chosen
            group by month, {dimension}, actor_type
        )

        select
            *,
            tasks / nullif(sum(tasks) over (partition by month, actor_type), 0)
                as share_of_actor_tasks
        from summed
        order by month, actor_type, {dimension}
        """,
        (list(segments), list(segments), *period_params),
    )


def seats_and_usage_per_seat(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Billable seats at month end beside tasks and tokens per seat, for the chosen segments (or
    `all`), from rpt_revenue_portfolio_monthly."""
    period_sql, period_params = _revenue_period("month", period)
    return _read(
        "the seats and usage per seat",
        f"""
        select month, segment, billable_seats, tasks, tasks_per_seat, tokens, tokens_per_seat
        from marts.rpt_revenue_portfolio_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_revenue_segments(segments), *period_params),
    )


# ---- the road ahead: projection, migration plan, paper invoice (issue 12) --------------------


def revenue_projection(segment: str, models: tuple[str, ...]) -> pd.DataFrame:
    """fct_revenue_projection of one segment (or `all`) for the chosen models, every scenario."""
    return _read(
        "the revenue projection",
        """
        select projection.*, models.name
        from marts.fct_revenue_projection as projection
        inner join marts.dim_price_models as models
            on projection.price_model_id = models.price_model_id
        where projection.segment = ? and list_contains(?, projection.price_model_id)
        order by models.is_current_model desc, projection.price_model_id, projection.scenario,
            projection.months_ahead
        """,
        (segment, list(models)),
    )


def projection_totals(segment: str, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Projected revenue over the next 1..h months (months_ahead 1 .. h: month 0 has happened),
    per model and scenario, for each horizon h, with the model's backtest error."""
    return _read(
        "the projection's totals",
        """
        select projection.price_model_id, models.name, models.is_current_model,
            projection.scenario, horizons.horizon_months,
            sum(projection.projected_revenue_usd) as projected_revenue_usd,
            any_value(projection.backtest_mape) as backtest_mape,
            bool_or(projection.is_backtest_carried) as is_backtest_carried
        from marts.fct_revenue_projection as projection
        inner join marts.dim_price_models as models
            on projection.price_model_id = models.price_model_id
        inner join (select unnest(?) as horizon_months) as horizons
            on projection.months_ahead between 1 and horizons.horizon_months
        where projection.segment = ?
        group by all
        order by models.is_current_model desc, projection.price_model_id,
            horizons.horizon_months, projection.scenario
        """,
        (list(horizons), segment),
    )


def projection_backtest(segment: str) -> pd.DataFrame:
    """fct_revenue_projection_backtest of one segment (or `all`): projected beside billed."""
    return _read(
        "the projection's backtest",
        """
        select months_ahead, month, backtest_origin_month, projected_revenue_usd,
            actual_revenue_usd, absolute_percentage_error, backtest_mape
        from marts.fct_revenue_projection_backtest
        where segment = ?
        order by months_ahead
        """,
        (segment,),
    )


def projection_rates(segment: str) -> pd.DataFrame:
    """The churn and growth rates the projection applies in a segment (fct_projection_rates)."""
    return _read(
        "the projection's rates",
        """
        select segment, scenario, metric, measured_churn_rate, churn_rate_error,
            monthly_churn_rate, measured_growth_rate, growth_rate_error, monthly_growth_rate
        from marts.fct_projection_rates
        where segment = ? or ? = 'all'
        order by segment, metric, scenario
        """,
        (segment, segment),
    )


def projection_settings() -> pd.DataFrame:
    """The settings the projection and the plan read (rpt_settings), as the build used them."""
    frame = settings_in_force()
    names = frame["name"].astype(str)
    return frame[names.str.startswith(("projection_", "migration_", "bill_shock_"))]


def migration_plan(segment: str, price_model_id: str) -> pd.DataFrame:
    """fct_migration_plan of one segment (every segment for `all`) under one proposal."""
    return _read(
        "the migration plan",
        """
        select plan.wave, plan.plan_position, plan.account_id, accounts.account_name,
            plan.segment, plan.renewal_date, plan.switch_month, plan.grandfathered_until_month,
            plan.current_monthly_usd, plan.proposed_monthly_usd, plan.delta_pct,
            plan.transition_credit_usd, plan.transition_credit_total_usd,
            plan.billed_at_switch_usd, plan.is_bill_shock_without_credit,
            plan.is_bill_shock_at_switch, plan.fit_score, plan.fit_rank, plan.is_pilot_eligible
        from marts.fct_migration_plan as plan
        left join marts.dim_accounts as accounts on plan.account_id = accounts.account_id
        where (plan.segment = ? or ? = 'all') and plan.price_model_id = ?
        order by plan.wave, plan.segment, plan.plan_position
        """,
        (segment, segment, price_model_id),
    )


def migration_waves(segment: str, price_model_id: str) -> pd.DataFrame:
    """The plan's waves: accounts, bills, credits and bill shock with and without the credit."""
    return _read(
        "the migration plan's waves",
        """
        select wave, min(switch_month) as first_switch_month,
            max(switch_month) as last_switch_month, count(*) as accounts,
            sum(current_monthly_usd) as current_monthly_usd,
            sum(proposed_monthly_usd) as proposed_monthly_usd,
            sum(proposed_monthly_usd) / nullif(sum(current_monthly_usd), 0) - 1 as delta_pct,
            count(*) filter (where transition_credit_usd > 0) as credited_accounts,
            sum(transition_credit_total_usd) as transition_credit_total_usd,
            count(*) filter (where is_bill_shock_without_credit) as shocked_without_credit,
            count(*) filter (where is_bill_shock_at_switch) as shocked_at_switch
        from marts.fct_migration_plan
        where (segment = ? or ? = 'all') and price_model_id = ?
        group by wave
        order by wave
        """,
        (segment, segment, price_model_id),
    )


def migration_plan_impact(segment: str, price_model_id: str) -> pd.DataFrame:
    """rpt_migration_plan_impact of one segment (or `all`) under one proposal, month by month."""
    return _read(
        "what the plan does to revenue",
        """
        select * exclude (migration_plan_impact_id)
        from marts.rpt_migration_plan_impact
        where segment = ? and price_model_id = ?
        order by months_ahead
        """,
        (segment, price_model_id),
    )


def paper_invoice_month(account_id: str, price_model_id: str) -> pd.Timestamp | None:
    """The latest month the account was really billed and has a shadow invoice under the model."""
    frame = _read(
        "the paper invoice's month",
        """
        select max(month) as month from marts.fct_shadow_invoice
        where account_id = ? and price_model_id = ? and actual_usd > 0
        """,
        (account_id, price_model_id),
    )
    month = frame["month"].iloc[0] if len(frame) else None
    return None if month is None or pd.isna(month) else pd.Timestamp(month)


def paper_invoice_account(account_id: str) -> pd.DataFrame:
    return _read(
        "the account",
        "select account_id, account_name, segment, currency, country from marts.dim_accounts"
        " where account_id = ?",
        (account_id,),
    )


def paper_invoice_totals(account_id: str, price_model_id: str, month: pd.Timestamp) -> pd.DataFrame:
    """The account-month's shadow invoice beside the real one (fct_shadow_invoice)."""
    return _read(
        "the shadow invoice",
        """
        select shadow.account_id, shadow.month, shadow.price_model_id, models.name,
            shadow.actual_usd, shadow.actual_adjustments_usd, shadow.actual_subtotal_usd,
            shadow.shadow_usd, shadow.delta_usd, shadow.delta_pct
        from marts.fct_shadow_invoice as shadow
        inner join marts.dim_price_models as models
            on shadow.price_model_id = models.price_model_id
        where shadow.account_id = ? and shadow.price_model_id = ? and shadow.month = ?
        """,
        (account_id, price_model_id, month.date()),
    )


def paper_invoice_actual_lines(account_id: str, month: pd.Timestamp) -> pd.DataFrame:
    """The lines of the account's real invoices issued in the month (void and draft left out)."""
    return _read(
        "the real invoice's lines",
        """
        select invoice_id, issued_at, line_id, line_type, description, currency,
            invoiced_quantity, invoiced_unit_amount, invoiced_amount
        from marts.fct_invoice_reconciliation
        where account_id = ? and invoice_month = ?
            and coalesce(invoice_status, '') not in ('void', 'draft')
        order by issued_at, invoice_id, line_id
        """,
        (account_id, month.date()),
    )


def paper_invoice_shadow_lines(
    account_id: str, price_model_id: str, month: pd.Timestamp
) -> pd.DataFrame:
    """The shadow invoice's lines: one per component of the model (fct_shadow_invoice_lines)."""
    return _read(
        "the shadow invoice's lines",
        """
        select lines.component_id, lines.metric, lines.charge_model, lines.quantity, lines.units,
            components.unit_size, components.unit_amount, lines.amount_usd
        from marts.fct_shadow_invoice_lines as lines
        left join marts.dim_price_components as components
            on lines.price_model_id = components.price_model_id
                and lines.component_id = components.component_id
        where lines.account_id = ? and lines.price_model_id = ? and lines.month = ?
        order by lines.component_id
        """,
        (account_id, price_model_id, month.date()),
    )


def paper_invoice_plan(account_id: str, price_model_id: str) -> pd.DataFrame:
    """The account's row of the migration plan under the model (none for the current model)."""
    return _read(
        "the account's migration plan",
        "select * from marts.fct_migration_plan where account_id = ? and price_model_id = ?",
        (account_id, price_model_id),
    )


# ---- the road ahead re-projected under edited assumptions (issue 12) --------------------------
# The re-projection runs the projection SQL the build published (marts.rpt_projection_sql, the
# macros of the projection's models with the editable assumptions as $parameters) in an in-memory
# DuckDB over copies of its inputs, and rates the grown quantities with the build's rating SQL
# (marts.rpt_rating_sql's rate_usage): with the settings in force it gives fct_revenue_projection
# row for row, and an edited assumption is projected exactly as the build would project it.

# The relations rpt_projection_sql's queries read, copied once per published build (`published`
# is the warehouse, attached read-only for the copy only).
_PROJECTION_INPUTS = {
    "projection_bases": "select * from published.marts.fct_projection_bases",
    "projection_measured_rates": "select * from published.marts.fct_projection_measured_rates",
    "projection_quantities": """
        select account_id, month, metric, quantity, events
        from published.marts.fct_rating_quantities
        where month in (select origin_month from published.marts.fct_projection_bases)
        """,
    # the backtest compares with what the current model billed its base from its origin on
    "projection_actuals": """
        select account_id, price_model_id, month, actual_usd
        from published.marts.fct_shadow_invoice
        where price_model_id in (
            select price_model_id from published.marts.fct_projection_bases
            where origin_kind = 'backtest'
        ) and month >= (select min(origin_month) from published.marts.fct_projection_bases)
        """,
    "projection_price_models": """
        select price_model_id, is_current_model from published.marts.dim_price_models
        """,
    "price_book_components": f"""
        select {", ".join(WHAT_IF_COMPONENT_COLUMNS)} from published.marts.dim_price_components
        """,
    "rating_price_tiers": f"""
        select {", ".join(WHAT_IF_TIER_COLUMNS)} from published.marts.dim_price_tiers
        """,
}


@dataclass(frozen=True)
class _ProjectionSql:
    queries: dict[str, str]  # sql_name -> text (rpt_projection_sql)
    parameters: dict[str, list[str]]  # sql_name -> the assumptions it binds
    rate_usage: str  # rpt_rating_sql's rating engine


# Only the assumptions that move the quantities (what the rating engine rates) need a re-rating:
# the rated lines are kept per value of these, so an edit of churn reuses them.
_RATED_BY = ("projection_scenario_spread", "projection_growth_multiplier")
_RATED_KEPT = 8


@dataclass
class _ProjectionWorkspace:
    connection: duckdb.DuckDBPyConnection
    sql: _ProjectionSql
    rated: dict[tuple[float, ...], dict[str, pa.Table]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(max_entries=2, show_spinner=False)
def _projection_workspace(path: str, version: str) -> _ProjectionWorkspace:
    """An in-memory DuckDB holding the build's projection inputs and its projection and rating
    SQL, with the parts that no assumption moves (the origins, the backtest's price book) stored."""
    del version  # only part of the cache key
    workspace = duckdb.connect()
    escaped = path.replace("'", "''")
    workspace.execute(f"attach '{escaped}' as published (read_only)")
    try:
        for name, sql in _PROJECTION_INPUTS.items():
            workspace.execute(f"create table {name} as {sql}")
        rows = workspace.execute(
            "select sql_name, sql_text, parameter_names from published.marts.rpt_projection_sql"
            " order by run_order"
        ).fetchall()
        (rate_usage,) = workspace.execute(
            "select sql_text from published.marts.rpt_rating_sql where sql_name = 'rate_usage'"
        ).fetchone()
    finally:
        workspace.execute("detach published")
    sql = _ProjectionSql(
        queries={name: text for name, text, _ in rows},
        parameters={name: [p for p in names.split(",") if p] for name, _, names in rows},
        rate_usage=rate_usage,
    )
    workspace.execute("create view rating_price_components as select * from price_book_components")
    workspace.execute(f"create table projection_origins as {sql.queries['projection_origins']}")
    workspace.execute(
        f"create table backtest_components as {sql.queries['backtest_price_components']}"
    )
    workspace.execute("drop view rating_price_components")
    return _ProjectionWorkspace(workspace, sql)


def projection_assumption_names() -> list[str]:
    """The settings the re-projection binds (rpt_projection_sql), in rpt_settings' order."""
    frame = _read(
        "the projection's assumptions",
        "select parameter_names from marts.rpt_projection_sql order by run_order",
    )
    names = [name for text in frame["parameter_names"] for name in str(text).split(",") if name]
    in_force = settings_in_force()["name"].tolist()
    return sorted(set(names), key=lambda name: in_force.index(name) if name in in_force else 999)


def _re_project(
    cursor: duckdb.DuckDBPyConnection, workspace: _ProjectionWorkspace, values: dict[str, float]
) -> dict[str, pd.DataFrame]:
    """rpt_projection_sql's queries in their order on `cursor`, each result stored as a temp table
    under its name; the grown quantities rated with rpt_rating_sql's rate_usage."""
    sql = workspace.sql

    def run(name: str, into: str | None = None) -> pd.DataFrame | None:
        params = {parameter: float(values[parameter]) for parameter in sql.parameters[name]}
        text = sql.queries[name]
        if into is None:
            return cursor.execute(text, params).df()
        cursor.execute(f"create or replace temp table {into} as {text}", params)
        return None

    def rate(usage_query: str, components: str) -> pa.Table:
        run(usage_query, into="rating_usage")
        cursor.execute(
            f"create or replace temp view rating_price_components as select * from {components}"
        )
        # the projection reads a line's account (the rating key), model and amount only
        return cursor.sql(
            f"select account_id, price_model_id, amount from ({sql.rate_usage}) as rated_lines"
        ).to_arrow_table()

    cursor.execute(
        "create or replace temp view rating_price_components as select * from price_book_components"
    )
    run("projection_rates", into="projection_rates")
    run("projection_usage_grown", into="projection_usage_grown")
    rated_key = tuple(float(values[name]) for name in _RATED_BY)
    with workspace.lock:
        rated = workspace.rated.get(rated_key)
    if rated is None:
        rated = {
            "projection_rated_lines": rate("projection_rating_usage", "price_book_components"),
            "backtest_rated_lines": rate("backtest_rating_usage", "backtest_components"),
        }
        with workspace.lock:
            while len(workspace.rated) >= _RATED_KEPT:
                workspace.rated.pop(next(iter(workspace.rated)))
            workspace.rated[rated_key] = rated
    for name, lines in rated.items():
        cursor.register(f"{name}_arrow", lines)
        cursor.execute(f"create or replace temp view {name} as select * from {name}_arrow")
    run("projection_by_segment", into="projection_by_segment")
    run("projection_backtest", into="projection_backtest")
    projection = run("revenue_projection")
    backtest = cursor.execute("select * from projection_backtest").df()
    rates = cursor.execute("select * from projection_rates where origin_kind = 'projection'").df()
    return {"projection": projection, "backtest": backtest, "rates": rates}


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner=False)
def _cached_re_projection(
    path: str, version: str, assumptions: tuple[tuple[str, float], ...]
) -> dict[str, pd.DataFrame]:
    workspace = _projection_workspace(path, version)
    with workspace.connection.cursor() as cursor:
        return _re_project(cursor, workspace, dict(assumptions))


def re_projection(assumptions: tuple[tuple[str, float], ...]) -> dict[str, pd.DataFrame]:
    """fct_revenue_projection (`projection`), its backtest (`backtest`) and the rates applied
    (`rates`, origin `projection`) re-projected under other assumptions (setting name, value) with
    the build's own projection and rating SQL; an assumption not given keeps its value in force.
    With none given it is the build's projection, row for row."""
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not re-project the revenue.", f"No warehouse file at {current.path}."
        )
    in_force = settings_in_force().set_index("name")["value"]
    try:
        names = projection_assumption_names()
        values = {name: float(in_force[name]) for name in names} | dict(assumptions)
        key = tuple((name, float(values[name])) for name in names)
        return _cached_re_projection(str(current.path), current.version, key)
    except (duckdb.Error, KeyError, ValueError) as error:
        raise QueryFailed(
            "Could not re-project the revenue with these assumptions.",
            f"{type(error).__name__}: {error}",
        ) from error


def projection_new_business(segment: str) -> pd.DataFrame:
    """fct_projection_new_business of one segment (or `all`): the line of new business carried
    forward beside the projection of today's base, never part of it."""
    return _read(
        "the new business",
        """
        select months_ahead, month, as_of_month, new_logos_per_month, new_mrr_usd_per_month,
            monthly_churn_rate, projected_new_accounts, projected_new_revenue_usd
        from marts.fct_projection_new_business
        where segment = ?
        order by months_ahead
        """,
        (segment,),
    )
