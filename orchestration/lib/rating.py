"""The one rating runner: rate usage quantities under a price book with shadow billing's own SQL.

The rating engine is written once, as the dbt macro `rate_usage` (dbt_project/macros/rating/).
Every build publishes it compiled over placeholder relations in `marts.rpt_rating_sql`; this
module runs that text in an in-memory DuckDB, for two callers:

- `seatshift rate` (`rate`): usage and price book from CSV files. Without a built warehouse it
  asks dbt to compile the macro (a few seconds), so the command never carries a second
  implementation that could drift from shadow billing.
- the Shadow billing page's what-if (`what_if_workspace`, `what_if`): the build's monthly
  quantities (never the events) under an edited price book, then the build's own shadow-invoice
  and guardrail SQL, so an edited proposal is rated and judged exactly as the shipped one was.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib import settings

RATING_SQL_NAME = "rate_usage"
SHADOW_INVOICES_SQL_NAME = "shadow_invoices"
SUMMARY_SQL_NAME = "summarise"
# The placeholder relations rpt_rating_sql's queries were compiled over (rpt_rating_sql.sql).
USAGE_RELATION = "rating_usage"
COMPONENTS_RELATION = "rating_price_components"
TIERS_RELATION = "rating_price_tiers"
MODELS_RELATION = "rating_price_models"
LINES_RELATION = "rating_lines"
ACTUALS_RELATION = "rating_actuals"
SHADOW_INVOICES_RELATION = "rating_shadow_invoices"
CHOICE_SQL_NAME = "customer_choice"
CHOICE_BY_SEGMENT_SQL_NAME = "customer_choice_by_segment"
CHOICE_MONTHS_RELATION = "rating_choice_months"
CHOICE_MODELS_RELATION = "rating_choice_models"
CHOICE_RELATION = "rating_customer_choice"
# The build's price models (offered_as, is_current_model), of which the what-if's choice weighs
# those it rated.
BUILD_MODELS_RELATION = "build_price_models"
# The migration trigger's SQL (rpt_trigger_sql) and what it reads beside a proposal's bills: the
# build's signals per segment and month (price-book free), and its thresholds in force.
TRIGGER_JUDGE_SQL_NAME = "judge"
TRIGGER_WINDOWS_SQL_NAME = "shadow_windows"
TRIGGER_SEGMENT_SIGNALS_RELATION = "build_trigger_segment_signals"
TRIGGER_THRESHOLDS_RELATION = "build_trigger_thresholds"
TRIGGER_SIGNAL_COLUMNS = (
    "segment", "month", "accounts", "billable_seats", "tasks", "agent_tasks", "tokens",
    "automation_share", "automation_change_6m", "seat_growth_6m", "usage_growth_6m",
    "token_growth_6m", "nrr", "median_seat_utilization",
)  # fmt: skip
COMPONENT_COLUMNS = (
    "price_model_id",
    "component_id",
    "metric",
    "charge_model",
    "unit_size",
    "unit_amount",
    "flat_amount",
    "package_size",
    "package_amount",
    "free_units",
    "free_units_per_metric",
    "rate_pct",
    "fixed_amount",
    "pool_units",
    "rollover_pct",
    "rollover_periods",
    "pool_term_periods",
    "minimum_amount",
    "cap_amount",
    "cap_policy",
)
# price_models.csv's columns the rating reads: a model's own spend cap.
MODEL_CAP_COLUMNS = ("price_model_id", "cap_amount", "cap_policy")
TIER_COLUMNS = (
    "price_model_id",
    "component_id",
    "tier",
    "up_to",
    "per_unit_amount",
    "rate_pct",
    "flat_amount",
)
USAGE_COLUMNS = ("account_id", "period", "metric", "quantity", "events")
OUTPUT_COLUMNS = ("account_id", "period", "price_model_id", "component_id", "amount")
# Half-up to cents, as the shadow invoice rounds a line (the dbt macro round_half_up_to_cents).
ROUND_TO_CENTS = "cast(floor(({}) * 100 + 0.5) * 0.01 as decimal(18, 4))"


def default_price_book() -> Path:
    """The project's price book (the dbt seeds), in the dbt project the settings name: resolved
    when asked, so importing this module (the dashboard does) reads no setting."""
    return settings.dbt_project_dir() / "seeds" / "price_book"


class RatingError(ValueError):
    """Input the rating cannot use; the message names the file and what is wrong."""


def read_rating_sql(conn: duckdb.DuckDBPyConnection, database: str | None = None) -> dict[str, str]:
    """sql_name -> sql_text of the build's rpt_rating_sql (in `database` when the warehouse is
    attached under that name, e.g. `published`)."""
    relation = "marts.rpt_rating_sql"
    if database is not None:
        relation = f"{database}.{relation}"
    return dict(conn.execute(f"select sql_name, sql_text from {relation}").fetchall())


def rating_sql_from_warehouse(warehouse: Path) -> str | None:
    """The rating SQL the warehouse's build published, or None if it has none."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        found = conn.execute(
            """
            select count(*) from information_schema.tables
            where table_schema = 'marts' and table_name = 'rpt_rating_sql'
            """
        ).fetchone()
        if not found or not found[0]:
            return None
        return read_rating_sql(conn).get(RATING_SQL_NAME)


def compile_rating_sql(pool_state: str | None = None) -> str:
    """Compile `rate_usage` with dbt, for when no built warehouse is at hand; with `pool_state`
    (a relation's name), the rating that resumes each prepaid pool from the state it holds, as
    shadow billing's incremental runs do."""
    dbt = Path(sys.executable).with_name("dbt")
    project_dir = settings.dbt_project_dir()
    state = f", pool_state='{pool_state}'" if pool_state else ""
    inline = (
        "{{ rate_usage('" + USAGE_RELATION + "', '" + COMPONENTS_RELATION + "', '"
        "" + TIERS_RELATION + "', '" + MODELS_RELATION + "'" + state + ") }}"
    )
    with tempfile.TemporaryDirectory(prefix="seatshift-rate-") as scratch:
        env = settings.child_environment(
            SEATSHIFT_DBT_DATABASE=str(Path(scratch) / "compile.duckdb")
        )
        result = subprocess.run(
            [
                str(dbt),
                "compile",
                "--quiet",
                "--target",
                "prod",
                "--inline",
                inline,
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--target-path",
                str(Path(scratch) / "target"),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=project_dir,
        )
    if result.returncode != 0:
        raise RatingError("dbt could not compile the rating SQL: " + result.stdout[-2000:])
    return result.stdout.strip()


def rating_sql(warehouse: Path | None = None) -> str:
    """The published rating SQL of `warehouse` (default: the configured one), else dbt's."""
    published = rating_sql_from_warehouse(settings.warehouse_path(warehouse))
    return published if published is not None else compile_rating_sql()


def _read_csv_text(conn: duckdb.DuckDBPyConnection, path: Path, columns: Iterable[str]) -> str:
    """A select over the CSV with every expected column as text (absent optional ones null)."""
    if not path.is_file():
        raise RatingError(f"{path} does not exist")
    present = conn.execute(
        "select * from read_csv(?, all_varchar = true, header = true) limit 0", [str(path)]
    ).description
    names = {column[0] for column in present}
    select_list = ", ".join(
        f'"{name}"' if name in names else f"cast(null as varchar) as {name}" for name in columns
    )
    escaped = str(path).replace("'", "''")
    return f"select {select_list} from read_csv('{escaped}', all_varchar = true, header = true)"


def load_price_book(conn: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """The price book folder's CSVs as the rating SQL's component and tier relations."""
    components = _read_csv_text(conn, folder / "price_components.csv", COMPONENT_COLUMNS)
    tiers_path = folder / "price_tiers.csv"
    conn.execute(f"create or replace temp table {COMPONENTS_RELATION} as {components}")
    if tiers_path.is_file():
        tiers = _read_csv_text(conn, tiers_path, TIER_COLUMNS)
        conn.execute(f"create or replace temp table {TIERS_RELATION} as {tiers}")
    else:  # a price book without tiered components may omit the file
        columns = ", ".join(f"cast(null as varchar) as {name}" for name in TIER_COLUMNS)
        conn.execute(f"create or replace temp table {TIERS_RELATION} as select {columns} limit 0")
    models_path = folder / "price_models.csv"
    if models_path.is_file():
        models = _read_csv_text(conn, models_path, MODEL_CAP_COLUMNS)
        conn.execute(f"create or replace temp table {MODELS_RELATION} as {models}")
    else:  # rating needs the models' own caps only: a book without the file has none
        columns = ", ".join(f"cast(null as varchar) as {name}" for name in MODEL_CAP_COLUMNS)
        conn.execute(f"create or replace temp table {MODELS_RELATION} as select {columns} limit 0")


def load_usage(conn: duckdb.DuckDBPyConnection, usage_file: Path) -> None:
    """Usage CSV rows (period `YYYY-MM`, empty events = 0) as the rating SQL's usage relation."""
    usage = _read_csv_text(conn, usage_file, USAGE_COLUMNS)
    conn.execute(
        f"""
        create or replace temp table {USAGE_RELATION} as
        select
            trim(account_id) as account_id,
            try_cast(trim(period) || '-01' as date) as period,
            trim(metric) as metric,
            try_cast(nullif(trim(quantity), '') as decimal(38, 12)) as quantity,
            coalesce(try_cast(nullif(trim(events), '') as decimal(38, 12)), 0) as events,
            period as period_text,
            quantity as quantity_text
        from ({usage})
        """
    )
    bad = conn.execute(
        f"""
        select period_text, quantity_text from {USAGE_RELATION}
        where period is null or quantity is null or account_id is null or metric is null
        limit 1
        """
    ).fetchone()
    if bad:
        raise RatingError(
            f"{usage_file}: a row lacks account_id or metric, or has period {bad[0]!r} (expected "
            f"YYYY-MM) or quantity {bad[1]!r} (expected a number)"
        )


def rate_usage_into_lines(
    conn: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] | None = None
) -> None:
    """Run the rating SQL over the loaded usage and price-book relations into `rating_lines`,
    the relation the build's shadow-invoice SQL reads: every column of a rated line, or only
    `columns` (what is not kept is not computed)."""
    select_list = ", ".join(columns) if columns is not None else "*"
    conn.execute(
        f"create or replace temp table {LINES_RELATION} as"
        f" select {select_list} from ({sql}) as rated_lines"
    )


def rate_lines(
    conn: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] = OUTPUT_COLUMNS
) -> list[tuple]:
    """Run the rating SQL over the loaded relations, ordered for a stable output."""
    rate_usage_into_lines(conn, sql)
    select_list = ", ".join(
        "strftime(period, '%Y-%m') as period" if name == "period" else name for name in columns
    )
    return conn.execute(
        f"""
        select {select_list}
        from {LINES_RELATION} as rated
        order by account_id, rated.period, price_model_id, component_id
        """
    ).fetchall()


def rate(price_book: Path, usage_file: Path, *, sql: str | None = None) -> list[tuple]:
    """Rows of (account_id, period, price_model_id, component_id, amount), amounts exact."""
    sql = sql if sql is not None else rating_sql()
    with duckdb.connect() as conn:
        load_price_book(conn, price_book)
        load_usage(conn, usage_file)
        return rate_lines(conn, sql)


# ---- the what-if: the build's quantities re-rated under an edited price book -----------------


@dataclass(frozen=True)
class WhatIfWorkspace:
    """An in-memory DuckDB holding a build's monthly quantities and actuals (as the relations
    rpt_rating_sql reads) and its rating SQL (sql_name -> text)."""

    connection: duckdb.DuckDBPyConnection
    sql: dict[str, str]
    # rpt_trigger_sql: sql_name -> (sql_text, the thresholds it binds); empty for a build
    # published before it held `shadow_windows`
    trigger_sql: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # the edits already rated on this build, oldest first: what_if_key -> (what_if's frames, the
    # seconds the rating took). A page reruns on every widget it holds, and an edit stays in force
    # across reruns and visits, so the same edit is asked for again and again; the caller keeps
    # and reads these under `lock` (the workspace serves every session of the server).
    kept: OrderedDict[str, tuple[dict[str, pd.DataFrame], float]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


# What the what-if reads of a rated line: the build's shadow-invoice SQL its amounts and cap flag,
# the spend caps' summary (_CAPS_SQL) its metric and blocked units. The rest of a line (its
# quantity, units, a pool's balances) is neither stored nor computed.
WHAT_IF_LINE_COLUMNS = (
    "account_id",
    "period",
    "price_model_id",
    "component_id",
    "metric",
    "amount",
    "uncapped_amount",
    "is_over_cap",
    "blocked_units",
)


# The Shadow billing page's winners and losers: how many accounts moved by how much, and the
# accounts that moved most. The histogram's bins: 5 points of relative change each, from -100%
# to +200% (a change outside is counted in the end bin).
DELTA_BIN_WIDTH = 0.05
DELTA_BIN_FROM, DELTA_BIN_TO = -1.0, 2.0
DELTA_BINS = round((DELTA_BIN_TO - DELTA_BIN_FROM) / DELTA_BIN_WIDTH)
TOP_ACCOUNTS = 50


def account_totals_sql(relation: str, where: str = "true") -> str:
    """Per account and price model over the rows of `relation` (fct_shadow_invoice's columns)
    that `where` keeps: its segment, rated months, actual USD (null where no month had an actual
    amount), shadow USD and months of bill shock, summed month by month. The what-if's totals
    over its re-rating; running_account_totals_sql reads the same from the build's running
    totals."""
    return f"""
        select price_model_id, account_id, any_value(segment) as segment,
            count(*) as rated_months, sum(actual_usd) as actual_usd,
            sum(shadow_usd) as shadow_usd,
            count(*) filter (where is_bill_shock) as shocked_months
        from {relation}
        where {where}
        group by price_model_id, account_id
    """


def running_account_totals_sql(relation: str, where: str = "true") -> str:
    """account_totals_sql's columns over the months from `?` to `?` (the first two parameters,
    before any of `where`; both null: every month), from `relation`, running totals per account
    and model (fct_shadow_account_running_totals' columns, docs block
    pricing_shadow_running_totals): the row of the period's last month less the row of the month
    before its first. Two rows per account and model, whatever the period's length."""
    return f"""
        with bounds as materialized (
            select
                max(month) filter (where month < ?) as month_before,
                max(month) filter (where month <= coalesce(?, month)) as last_month
            from {relation}
        ),
        ends as (
            select *,
                case when month = (select last_month from bounds) then 1 else -1 end as sign
            from {relation}
            where month in (select last_month from bounds union all select month_before from bounds)
                and ({where})
        )
        select price_model_id, account_id, any_value(segment) as segment,
            cast(sum(sign * rated_months) as bigint) as rated_months,
            case when sum(sign * actual_months) > 0 then sum(sign * actual_usd) end as actual_usd,
            sum(sign * shadow_usd) as shadow_usd,
            cast(sum(sign * shocked_months) as bigint) as shocked_months
        from ends
        group by price_model_id, account_id
        having sum(sign * rated_months) > 0
    """


def account_deltas_sql(totals: str) -> str:
    """Per price model over `totals` (a query of account_totals_sql's columns): rows of `kind`
    'bin', the accounts whose relative change falls in each bin (`bin` 0 .. DELTA_BINS - 1; null
    for accounts that paid nothing, which have no relative change), and rows of `kind` 'top', the
    model's TOP_ACCOUNTS accounts with the largest change in dollars (actual, shadow, delta,
    months shocked; only accounts with a relative change). The one definition behind the Shadow
    billing page's winners and losers, over the build's running totals and over the what-if's
    re-rating."""
    return f"""
        with totals as materialized (
            select *, shadow_usd - actual_usd as delta_usd,
                cast(shadow_usd - actual_usd as double) / nullif(actual_usd, 0) as delta_pct
            from ({totals}) as totals
        )
        select 'bin' as kind, price_model_id,
            -- least and greatest skip a null: an account without a relative change has no bin
            case when delta_pct is not null then cast(least(greatest(
                floor((delta_pct - ({DELTA_BIN_FROM})) / {DELTA_BIN_WIDTH}), 0
            ), {DELTA_BINS - 1}) as integer) end as bin,
            count(*) as accounts
        from totals
        group by all
        union all by name
        -- each model's largest moves, ties by account: a bounded heap per model (min_by with a
        -- count), where ranking every account with a window took a third of the query
        select 'top' as kind, price_model_id, 1 as accounts, unnest(top, recursive := true)
        from (
            select price_model_id,
                min_by(
                    {{'account_id': account_id, 'segment': segment, 'actual_usd': actual_usd,
                        'shadow_usd': shadow_usd, 'delta_usd': delta_usd, 'delta_pct': delta_pct,
                        'shocked_months': shocked_months}},
                    {{'size': -abs(cast(delta_usd as double)), 'account_id': account_id}},
                    {TOP_ACCOUNTS}
                ) as top
            from totals
            where delta_pct is not null
            group by price_model_id
        ) as largest
        order by kind, price_model_id, bin, abs(delta_usd) desc, account_id
    """


def what_if_workspace(warehouse: Path) -> WhatIfWorkspace:
    """Copy the published build's quantities, actuals and rating SQL into an in-memory DuckDB.

    The warehouse is attached read-only for the copy only, so no lock outlives this call (the
    next publish replaces the file); every what-if then runs on a cursor of the workspace, and
    the decimal quantities never round-trip through pandas.
    """
    connection = duckdb.connect()
    escaped = str(warehouse).replace("'", "''")
    try:
        connection.execute(f"attach '{escaped}' as published (read_only)")
        try:
            connection.execute(
                f"""
                create table {USAGE_RELATION} as
                select account_id, month as period, metric, quantity, events
                from published.marts.fct_rating_quantities
                """
            )
            # each rated account-month's actuals once: every rated account-month is rated under
            # every model, so the current model's shadow invoices hold them, one row each (the
            # same rows as the distinct actuals of fct_rating_quantities, whose grain is a metric
            # of the month: the distinct took a third of this copy at 14,500 accounts)
            connection.execute(
                f"""
                create table {ACTUALS_RELATION} as
                select account_id, month, segment, actual_usd, cost_to_serve_usd
                from published.marts.fct_shadow_invoice
                where price_model_id in (
                    select price_model_id from published.marts.dim_price_models
                    where is_current_model
                )
                """
            )
            # customer choice weighs each account's MRR over the window against the re-rating
            connection.execute(
                f"""
                create table {CHOICE_MONTHS_RELATION} as
                select account_id, segment, month, mrr_usd
                from published.marts.fct_account_month
                """
            )
            connection.execute(
                f"""
                create table {BUILD_MODELS_RELATION} as
                select price_model_id, offered_as, is_current_model
                from published.marts.dim_price_models
                """
            )
            sql = read_rating_sql(connection, "published")
            trigger_sql = _copy_trigger_inputs(connection)
        finally:
            connection.execute("detach published")
    except BaseException:
        connection.close()
        raise
    return WhatIfWorkspace(connection, sql, trigger_sql)


def _copy_trigger_inputs(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """The build's trigger SQL (rpt_trigger_sql), its signals per segment and month and its
    thresholds in force, copied from the attached `published` warehouse; nothing for a build
    whose rpt_trigger_sql has no `shadow_windows`."""
    (found,) = connection.execute(
        """
        select count(*) from duckdb_tables()
        where database_name = 'published' and schema_name = 'marts'
            and table_name = 'rpt_trigger_sql'
        """
    ).fetchone()
    if not found:
        return {}
    queries = {
        name: (text, [parameter for parameter in names.split(",") if parameter])
        for name, text, names in connection.execute(
            "select sql_name, sql_text, parameter_names from published.marts.rpt_trigger_sql"
        ).fetchall()
    }
    if TRIGGER_WINDOWS_SQL_NAME not in queries or TRIGGER_JUDGE_SQL_NAME not in queries:
        return {}
    connection.execute(
        f"""
        create table {TRIGGER_SEGMENT_SIGNALS_RELATION} as
        select distinct {", ".join(TRIGGER_SIGNAL_COLUMNS)}
        from published.marts.fct_migration_triggers
        """
    )
    connection.execute(
        f"""
        create table {TRIGGER_THRESHOLDS_RELATION} as
        select name, cast(value as double) as value
        from published.marts.rpt_settings
        where list_contains(?, name)
        """,
        [queries[TRIGGER_JUDGE_SQL_NAME][1]],
    )
    return queries


def price_book_as_text(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
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


def what_if_key(
    components: pd.DataFrame,
    tiers: pd.DataFrame,
    models: pd.DataFrame | None = None,
    segments: tuple[str, ...] = (),
    period: tuple | None = None,
) -> str:
    """One what-if's identity on a workspace: the price-book cells as the rating reads them
    (price_book_as_text, what load_price_book_frames registers) and the filters of its winners
    and losers. Two calls with the same key rate the same relations with the same SQL, so they
    give the same frames."""
    if models is None:
        models = pd.DataFrame(columns=list(MODEL_CAP_COLUMNS))
    parts = [
        price_book_as_text(frame, columns).to_csv(index=False)
        for frame, columns in (
            (components, COMPONENT_COLUMNS),
            (tiers, TIER_COLUMNS),
            (models, MODEL_CAP_COLUMNS),
        )
    ]
    parts += [repr(tuple(str(segment) for segment in segments)), repr(period)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def load_price_book_frames(
    conn: duckdb.DuckDBPyConnection,
    components: pd.DataFrame,
    tiers: pd.DataFrame,
    models: pd.DataFrame | None = None,
) -> None:
    """An edited price book (docs/price-book.md's columns) as the rating SQL's component, tier and
    model relations, on this connection only; without `models`, no model has a cap of its own."""
    conn.register(COMPONENTS_RELATION, price_book_as_text(components, COMPONENT_COLUMNS))
    conn.register(TIERS_RELATION, price_book_as_text(tiers, TIER_COLUMNS))
    if models is None:
        models = pd.DataFrame(columns=list(MODEL_CAP_COLUMNS))
    conn.register(MODELS_RELATION, price_book_as_text(models, MODEL_CAP_COLUMNS))


# The re-rated months by segment, as the page's revenue and bill-shock charts read the marts: a
# month is judged for bill shock once the account has three billed months before it.
_MONTHLY_SQL = f"""
    with judged as (
        select *,
            count(*) filter (where is_billed) over (
                partition by account_id, price_model_id order by month
                rows between unbounded preceding and 1 preceding
            ) as prior_billed_months
        from {SHADOW_INVOICES_RELATION}
    )
    select month, segment, price_model_id, sum(actual_usd) as actual_usd,
        sum(shadow_usd) as shadow_usd, sum(cost_to_serve_usd) as cost_to_serve_usd,
        count(*) filter (where is_billed) as billed_accounts,
        count(*) filter (where is_bill_shock) as shocked_accounts,
        count(*) filter (where is_billed and prior_billed_months >= 3) as judged_accounts
    from judged
    group by month, segment, price_model_id
    order by month, segment, price_model_id
"""


# What each spend cap did under the edited book, per segment (and `all`) and capped line: as
# fct_shadow_spend_caps reads the build's lines.
_CAPS_SQL = f"""
    with capped as (
        select lines.price_model_id, actuals.segment, lines.component_id, lines.account_id,
            case when lines.component_id = 'model_cap' then null else lines.metric end as metric,
            lines.is_over_cap,
            {ROUND_TO_CENTS.format("lines.uncapped_amount")}
            - {ROUND_TO_CENTS.format("lines.amount")} as capped_amount_usd,
            lines.blocked_units
        from {LINES_RELATION} as lines
        inner join {ACTUALS_RELATION} as actuals
            on lines.account_id = actuals.account_id and lines.period = actuals.month
        where lines.component_id = 'model_cap'
            or (lines.price_model_id, lines.component_id) in (
                select (price_model_id, component_id) from {COMPONENTS_RELATION}
                where nullif(trim(cast(cap_amount as varchar)), '') is not null
            )
    ),
    segmented as (
        select * from capped
        union all
        select * replace ('all' as segment) from capped
    )
    select price_model_id, segment, component_id, max(metric) as metric,
        count(*) as account_months,
        count(*) filter (where is_over_cap) as over_cap_account_months,
        count(distinct account_id) filter (where is_over_cap) as over_cap_accounts,
        sum(capped_amount_usd) as revenue_given_up_usd,
        sum(blocked_units) as blocked_units
    from segmented
    group by price_model_id, segment, component_id
    order by price_model_id, segment, component_id
"""


def what_if(
    workspace: WhatIfWorkspace,
    components: pd.DataFrame,
    tiers: pd.DataFrame,
    *,
    models: pd.DataFrame | None = None,
    segments: tuple[str, ...] = (),
    period: tuple | None = None,
) -> dict[str, pd.DataFrame]:
    """Re-rate every rated account-month of the build under an edited price book (`models`: the
    models' own spend caps, price_models.csv's cap columns; none when omitted).

    Returns `guardrails` (model x segment, as fct_price_model_guardrails), `accounts` (the
    winners and losers over the chosen segments and period, account_deltas_sql's rows: accounts
    per bin of change, and each model's largest moves), `monthly` (per month, segment and
    model: actual and shadow revenue, cost, billed, shocked and judged accounts), `caps` (per
    model, segment and capped line, as fct_shadow_spend_caps: months over the cap, revenue
    given up, blocked units), and `choice` and `choice_by_segment` (each rated proposal offered
    beside the current model: the rows of fct_customer_choice and fct_customer_choice_by_segment,
    by the build's own rule), and `trigger` (each rated proposal judged by the migration
    trigger, the rows of fct_migration_triggers over the re-rated bills: every segment, month and
    proposal; a proposal's own columns only, since a segment's status weighs every proposal of
    the build). Raises
    RatingError with DuckDB's reason when the book cannot be rated (a cell that is not a number,
    an unknown charge model).
    """
    where, parameters = ["true"], []
    if segments:
        where.append("list_contains(?, segment)")
        parameters.append(list(segments))
    if period:
        where.append("month between ? and ?")
        parameters += [period[0], period[1]]
    try:
        with workspace.connection.cursor() as cursor:
            load_price_book_frames(cursor, components, tiers, models)
            rate_usage_into_lines(cursor, workspace.sql[RATING_SQL_NAME], WHAT_IF_LINE_COLUMNS)
            cursor.execute(
                f"create or replace temp table {SHADOW_INVOICES_RELATION} as "
                + workspace.sql[SHADOW_INVOICES_SQL_NAME]
            )
            guardrails = cursor.execute(workspace.sql[SUMMARY_SQL_NAME]).df()
            accounts = cursor.execute(
                account_deltas_sql(
                    account_totals_sql(SHADOW_INVOICES_RELATION, " and ".join(where))
                ),
                parameters,
            ).df()
            monthly = cursor.execute(_MONTHLY_SQL).df()
            caps = cursor.execute(_CAPS_SQL).df()
            choice, choice_by_segment = _customer_choice(cursor, workspace.sql)
            trigger = _trigger_verdicts(cursor, workspace.trigger_sql)
    except duckdb.Error as error:
        raise RatingError(f"{type(error).__name__}: {error}") from error
    return {
        "guardrails": guardrails,
        "accounts": accounts,
        "monthly": monthly,
        "caps": caps,
        "choice": choice,
        "choice_by_segment": choice_by_segment,
        "trigger": trigger,
    }


def _customer_choice(
    cursor: duckdb.DuckDBPyConnection, sql: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The build's customer-choice SQL (rpt_rating_sql's customer_choice and its sums by segment,
    the rule of fct_customer_choice) over the re-rated shadow invoices, for the models the edited
    book rated: per account and per segment (and `all`). Empty for a build published before the
    rule was."""
    if CHOICE_SQL_NAME not in sql or CHOICE_BY_SEGMENT_SQL_NAME not in sql:
        return pd.DataFrame(), pd.DataFrame()
    cursor.execute(
        f"""
        create or replace temp view {CHOICE_MODELS_RELATION} as
        select * from {BUILD_MODELS_RELATION}
        where price_model_id in (select price_model_id from {SHADOW_INVOICES_RELATION})
        """
    )
    cursor.execute(f"create or replace temp table {CHOICE_RELATION} as " + sql[CHOICE_SQL_NAME])
    choice = cursor.execute(f"select * from {CHOICE_RELATION} order by customer_choice_id").df()
    by_segment = cursor.execute(
        f"select * from ({sql[CHOICE_BY_SEGMENT_SQL_NAME]}) as by_segment"
        " order by customer_choice_segment_id"
    ).df()
    return choice, by_segment


def _trigger_verdicts(
    cursor: duckdb.DuckDBPyConnection, trigger_sql: dict[str, tuple[str, list[str]]]
) -> pd.DataFrame:
    """The build's migration trigger (rpt_trigger_sql's shadow_windows, then judge, with the
    thresholds in force) over the re-rated shadow invoices, for the proposals the edited book
    rated (not the current model): fct_migration_triggers' rows, every segment and month. Empty
    for a build published before the trigger's SQL could do so."""
    if not trigger_sql:
        return pd.DataFrame()
    windows_sql, _ = trigger_sql[TRIGGER_WINDOWS_SQL_NAME]
    judge_sql, names = trigger_sql[TRIGGER_JUDGE_SQL_NAME]
    # each re-rated account-month beside the MRR it actually had (the revenue change's basis)
    cursor.execute(
        f"""
        create or replace temp view trigger_shadow_invoices as
        select invoices.*, coalesce(months.mrr_usd, 0) as mrr_usd
        from {SHADOW_INVOICES_RELATION} as invoices
        left join {CHOICE_MONTHS_RELATION} as months
            on invoices.account_id = months.account_id and invoices.month = months.month
        """
    )
    cursor.execute(
        "create or replace temp view trigger_segment_months as "
        f"select distinct segment, month from {TRIGGER_SEGMENT_SIGNALS_RELATION}"
    )
    cursor.execute(
        f"""
        create or replace temp view trigger_proposals as
        select distinct price_model_id from {SHADOW_INVOICES_RELATION}
        where price_model_id not in (
            select price_model_id from {BUILD_MODELS_RELATION} where is_current_model
        )
        """
    )
    cursor.execute(
        f"""
        create or replace temp table trigger_signals as
        select signals.*, windows.* exclude (segment, month)
        from {TRIGGER_SEGMENT_SIGNALS_RELATION} as signals
        inner join ({windows_sql}) as windows
            on signals.segment = windows.segment and signals.month = windows.month
        """
    )
    thresholds = dict(
        cursor.execute(f"select name, value from {TRIGGER_THRESHOLDS_RELATION}").fetchall()
    )
    return cursor.execute(
        f"select * from ({judge_sql}) as verdicts order by segment, month, price_model_id",
        {name: float(thresholds[name]) for name in names},
    ).df()


def format_amount(amount: Decimal) -> str:
    """Exact, without float noise or trailing zeros (`1501.2`, `0`)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def write_output(rows: Iterable[tuple], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for account_id, period, price_model_id, component_id, amount in rows:
            writer.writerow(
                [account_id, period, price_model_id, component_id, format_amount(amount)]
            )
            count += 1
    return count
