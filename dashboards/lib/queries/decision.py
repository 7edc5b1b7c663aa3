"""The migration decision: the trigger as built and re-judged under other thresholds,
the pilot list, the proposals' names.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from ._core import QueryFailed, _read, warehouse
from .definitions import settings_in_force

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
            pilots.ineligible_reason,
            pilots.actual_usd, pilots.shadow_usd, pilots.shocked_months,
            pilots.is_active, pilots.billable_seats, pilots.actual_gross_margin,
            pilots.shadow_gross_margin,
            pilots.bill_fit, pilots.automation_fit, pilots.margin_fit, pilots.as_of_month,
            pilots.window_months
        from marts.fct_pilot_accounts as pilots
        left join marts.dim_accounts as accounts on pilots.account_id = accounts.account_id
        where pilots.segment = ? and pilots.price_model_id = ?
        order by pilots.fit_rank
        """,
        (segment, price_model_id),
    )


def customer_choice_by_segment(models: tuple[str, ...]) -> pd.DataFrame:
    """Revenue if nobody moves, under the forced switch and under choice, per segment (and `all`)
    of each of the proposals, with their names (fct_customer_choice_by_segment)."""
    return _read(
        "the revenue under customer choice",
        """
        select choice.*, models.name
        from marts.fct_customer_choice_by_segment as choice
        inner join marts.dim_price_models as models
            on choice.price_model_id = models.price_model_id
        where list_contains(?, choice.price_model_id)
        order by choice.price_model_id, choice.segment
        """,
        (list(models),),
    )


def account_names() -> pd.DataFrame:
    """Every account's name (dim_accounts), for the what-if's accounts offered a proposal."""
    return _read("the accounts' names", "select account_id, account_name from marts.dim_accounts")


def choice_accounts(
    price_model_id: str, segments: tuple[str, ...] = (), switching: bool = True
) -> pd.DataFrame:
    """The accounts that would take the proposal if offered beside the current model (or, with
    `switching` False, those that would stay), of the segments (every segment when none), the
    largest saving first (fct_customer_choice)."""
    return _read(
        "the accounts that would switch",
        """
        select
            choices.account_id, accounts.account_name, choices.segment, choices.price_model_id,
            choices.current_usd, choices.proposal_usd, choices.saving_usd, choices.saving_pct,
            choices.choice_reason, choices.window_start_month, choices.as_of_month,
            choices.window_months
        from marts.fct_customer_choice as choices
        left join marts.dim_accounts as accounts on choices.account_id = accounts.account_id
        where choices.is_choosing_proposal = ? and choices.price_model_id = ?
            and (len(?) = 0 or list_contains(?, choices.segment))
        order by choices.saving_usd desc, choices.account_id
        """,
        (switching, price_model_id, list(segments), list(segments)),
    )


def price_model_names() -> dict[str, str]:
    frame = _read("the price models", "select price_model_id, name from marts.dim_price_models")
    return dict(zip(frame["price_model_id"], frame["name"], strict=True))
