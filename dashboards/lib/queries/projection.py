"""The revenue projection: as built, its backtest and rates, the new business beside
it, and the projection re-run under edited assumptions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import streamlit as st

from orchestration.lib import rating
from orchestration.lib.rating import COMPONENT_COLUMNS, TIER_COLUMNS

from ._core import CACHE_TTL, QueryFailed, _read, warehouse
from .definitions import SETTINGS_IN_FORCE_SQL, settings_in_force


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
    per model and scenario, for each horizon h, forced and under customer choice (with the base's
    accounts that would take the proposal), with the model's backtest error."""
    return _read(
        "the projection's totals",
        """
        select projection.price_model_id, models.name, models.is_current_model,
            projection.scenario, horizons.horizon_months,
            sum(projection.projected_revenue_usd) as projected_revenue_usd,
            sum(projection.projected_choice_revenue_usd) as projected_choice_revenue_usd,
            max(projection.choosing_accounts) as choosing_accounts,
            max(projection.base_accounts) as base_accounts,
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
    """fct_revenue_projection_backtest of one segment (or `all`): projected beside the MRR the
    base actually had, and the two naive forecasts."""
    return _read(
        "the projection's backtest",
        """
        select months_ahead, month, backtest_origin_month, projected_revenue_usd,
            actual_revenue_usd, flat_revenue_usd, trailing_nrr_revenue_usd, trailing_nrr,
            absolute_percentage_error, backtest_mape, flat_mape, trailing_nrr_mape
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
            monthly_churn_rate, measured_growth_rate, growth_rate_error, monthly_growth_rate,
            is_growth_trended, growth_trend_slope
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


# The re-projection runs the projection SQL the build published (marts.rpt_projection_sql, the
# macros of the projection's models with the editable assumptions as $parameters) in an in-memory
# DuckDB over copies of its inputs, and rates the grown quantities with the build's rating SQL
# (marts.rpt_rating_sql's rate_usage). An edit re-projects the edit sample only
# (fct_projection_edit_sample: at most projection_edit_sample_accounts strata per segment, origin
# and model, one account standing for each) and moves the build's exact projection by segment by
# what the edit moved the sample's (fct_projection_edit_anchors, projection_by_segment_estimated;
# docs block projection_edit_estimate), so an edit costs the same whatever the size of the base;
# everything after the projection by segment runs as the build runs it. With the settings in
# force it gives fct_revenue_projection row for row. `exact=True` re-projects every account (the
# tests' reference for the estimate).

# The relations rpt_projection_sql's queries read, copied per published build (`published` is
# the warehouse, attached read-only for the copy only). The bases and quantities are the edit
# sample's (or, exact, every account's).
_PROJECTION_INPUTS = {
    "projection_measured_rates": "select * from published.marts.fct_projection_measured_rates",
    # the backtest reads the bases of its origin (every account: the MRR it starts from and the
    # accounts it follows), the MRR its base had from its origin on, and its trailing-NRR
    # forecast the months before the origin
    "projection_backtest_bases": """
        select * from published.marts.fct_projection_bases where origin_kind = 'backtest'
        """,
    "projection_actuals": """
        select account_id, segment, month, mrr_usd
        from published.marts.fct_account_month
        """,
    "projection_price_models": """
        select price_model_id, is_current_model from published.marts.dim_price_models
        """,
    "price_book_components": f"""
        select {", ".join(COMPONENT_COLUMNS)} from published.marts.dim_price_components
        """,
    "rating_price_tiers": f"""
        select {", ".join(TIER_COLUMNS)} from published.marts.dim_price_tiers
        """,
    # the models' own spend caps, which the rating engine applies to each invoice total
    "rating_price_models": """
        select price_model_id, cap_amount, cap_policy from published.marts.dim_price_models
        """,
    # the cost to serve and the cash timing of the base at the origin, and the cost curve in force
    "projection_cost_bases": "select * from published.marts.fct_projection_cost_bases",
    "projection_cash_bases": "select * from published.marts.fct_projection_cash_bases",
    "build_cost_curve": """
        select model, projection_yearly_decline from published.marts.fct_model_cost_curve
        """,
}
_QUANTITY_COLUMNS = "account_id, month, metric, quantity, events, momentum_log_growth"
_SAMPLED_INPUTS = {
    "projection_rated_bases": """
        select bases.*, edit_sample.sample_weight
        from published.marts.fct_projection_bases as bases
        inner join published.marts.fct_projection_edit_sample as edit_sample
            on bases.origin_kind = edit_sample.origin_kind
                and bases.account_id = edit_sample.account_id
                and bases.price_model_id = edit_sample.price_model_id
        """,
    "projection_quantities": f"""
        select {_QUANTITY_COLUMNS}
        from published.marts.fct_projection_quantities
        where account_id in (select account_id from published.marts.fct_projection_edit_sample)
        """,
    "projection_edit_anchors": "select * from published.marts.fct_projection_edit_anchors",
}
_EXACT_INPUTS = {
    "projection_rated_bases": "select * from published.marts.fct_projection_bases",
    "projection_quantities": f"""
        select {_QUANTITY_COLUMNS} from published.marts.fct_projection_quantities
        """,
}


@dataclass(frozen=True)
class _ProjectionSql:
    queries: dict[str, str]  # sql_name -> text (rpt_projection_sql)
    parameters: dict[str, list[str]]  # sql_name -> the assumptions it binds
    rate_usage: str  # rpt_rating_sql's rating engine


# Only the assumptions that move the quantities (what the rating engine rates) need a re-rating:
# the rated lines are kept per value of these, so an edit of churn reuses them.
_SPREAD, _GROWTH = "projection_scenario_spread", "projection_growth_multiplier"
_RATED_BY = (_SPREAD, _GROWTH)
_RATED_KEPT = 8

# The build rates the edit sample in advance at each growth multiplier of its grid
# (fct_projection_edit_growth_grid): an edit of the growth alone moves each rated line between
# its bills at the grid's multipliers on either side (rpt_projection_sql's
# projection_edit_grid_lines, docs block projection_edit_estimate) instead of rating the sample.
_GROWTH_GRID = "projection_growth_grid"


@dataclass
class _ProjectionWorkspace:
    connection: duckdb.DuckDBPyConnection
    sql: _ProjectionSql
    exact: bool
    # the editable assumptions (projection_assumption_names' order) and their values in force,
    # read with the inputs: an edit opens the warehouse once, for the workspace, or not at all
    in_force: dict[str, float]
    # the growth multipliers the build rated the sample at (none for an exact workspace, or a
    # build published before the grid)
    growth_grid: tuple[float, ...] = ()
    rated: dict[tuple[float, ...], dict[str, pa.Table]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _use_bases(cursor: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Point projection_bases, which rpt_projection_sql's queries read, at `relation`: the
    accounts re-projected (the edit sample) up to the projection by segment, then the
    backtest's whole base."""
    cursor.execute(f"create or replace temp view projection_bases as select * from {relation}")


@st.cache_resource(max_entries=4, show_spinner=False)
def _projection_workspace(path: str, version: str, exact: bool = False) -> _ProjectionWorkspace:
    """An in-memory DuckDB holding the build's projection inputs (the edit sample's bases and
    quantities, or every account's with `exact`) and its projection and rating SQL, with the
    parts that no assumption moves (the origins, the backtest's price book) stored."""
    del version  # only part of the cache key
    workspace = duckdb.connect()
    escaped = path.replace("'", "''")
    workspace.execute(f"attach '{escaped}' as published (read_only)")
    try:
        inputs = _PROJECTION_INPUTS | (_EXACT_INPUTS if exact else _SAMPLED_INPUTS)
        for name, sql in inputs.items():
            workspace.execute(f"create table {name} as {sql}")
        rows = workspace.execute(
            "select sql_name, sql_text, parameter_names from published.marts.rpt_projection_sql"
            " order by run_order"
        ).fetchall()
        rate_usage = rating.read_rating_sql(workspace, "published")[rating.RATING_SQL_NAME]
        settings = [
            (row[0], row[1])  # name, value
            for row in workspace.execute(
                SETTINGS_IN_FORCE_SQL.replace("marts.", "published.marts.")
            ).fetchall()
        ]
        growth_grid: tuple[float, ...] = ()
        # a build published before the grid has neither it nor the query that reads it
        if not exact and any(name == "projection_edit_grid_lines" for name, _, _ in rows):
            workspace.execute(
                f"""
                create table {_GROWTH_GRID} as
                select line_id, growth_multiplier, origin_kind, rating_key, price_model_id,
                    component_id, driver, rated_usd
                from published.marts.fct_projection_edit_growth_grid
                """
            )
            growth_grid = tuple(
                float(value)
                for (value,) in workspace.execute(
                    f"select distinct growth_multiplier from {_GROWTH_GRID} order by 1"
                ).fetchall()
            )
    finally:
        workspace.execute("detach published")
    sql = _ProjectionSql(
        queries={name: text for name, text, _ in rows},
        parameters={name: [p for p in names.split(",") if p] for name, _, names in rows},
        rate_usage=rate_usage,
    )
    _use_bases(workspace, "projection_rated_bases")
    workspace.execute("create view rating_price_components as select * from price_book_components")
    workspace.execute(f"create table projection_origins as {sql.queries['projection_origins']}")
    workspace.execute(
        f"create table backtest_components as {sql.queries['backtest_price_components']}"
    )
    workspace.execute("drop view rating_price_components")
    workspace.execute("drop view projection_bases")
    values = dict(settings)
    names = _assumption_names([names for _, _, names in rows], list(values))
    return _ProjectionWorkspace(
        workspace, sql, exact, {name: float(values[name]) for name in names}, growth_grid
    )


def _grid_bracket(grid: tuple[float, ...], value: float) -> tuple[float, float] | None:
    """The growth multipliers of the grid on either side of `value` (the same one twice where it
    is one of them), or None outside the grid."""
    near = [point for point in grid if abs(point - value) < 1e-9]
    if near:
        return near[0], near[0]
    lower = [point for point in grid if point < value]
    upper = [point for point in grid if point > value]
    if not lower or not upper:
        return None
    return lower[-1], upper[0]


def _rated_from_grid(
    cursor: duckdb.DuckDBPyConnection, workspace: _ProjectionWorkspace, values: dict[str, float]
) -> dict[str, pa.Table] | None:
    """The sample's rated bills read from the build's growth grid, for an edit that moves the
    quantities by the growth multiplier alone (the spread in force) within the grid; else None."""
    if workspace.exact or not workspace.growth_grid:
        return None
    if abs(float(values[_SPREAD]) - workspace.in_force[_SPREAD]) > 1e-12:
        return None
    bracket = _grid_bracket(workspace.growth_grid, float(values[_GROWTH]))
    if bracket is None:
        return None
    lower, upper = bracket
    share = 0.0 if upper == lower else (float(values[_GROWTH]) - lower) / (upper - lower)
    lines = cursor.sql(
        workspace.sql.queries["projection_edit_grid_lines"],
        params={"lower": lower, "upper": upper, "share": share},
    ).to_arrow_table()
    origin = lines.column("origin_kind")
    columns = ["account_id", "price_model_id", "amount"]
    return {
        name: lines.filter(pc.equal(origin, kind)).select(columns)
        for name, kind in (
            ("projection_rated_lines", "projection"),
            ("backtest_rated_lines", "backtest"),
        )
    }


def _assumption_names(parameter_names: list[str], setting_names: list[str]) -> list[str]:
    """The settings rpt_projection_sql's queries bind (their comma-separated parameter_names),
    in the order of the settings (rpt_settings)."""
    names = {name for text in parameter_names for name in str(text).split(",") if name}
    return sorted(
        names,
        key=lambda name: setting_names.index(name) if name in setting_names else len(setting_names),
    )


def projection_assumption_names() -> list[str]:
    """The settings the re-projection binds (rpt_projection_sql), in rpt_settings' order."""
    frame = _read(
        "the projection's assumptions",
        "select parameter_names from marts.rpt_projection_sql order by run_order",
    )
    return _assumption_names(
        frame["parameter_names"].tolist(), settings_in_force()["name"].astype(str).tolist()
    )


def _re_project(
    cursor: duckdb.DuckDBPyConnection,
    workspace: _ProjectionWorkspace,
    values: dict[str, float],
    cost_curve: tuple[tuple[str, float], ...] = (),
) -> dict[str, pd.DataFrame]:
    """rpt_projection_sql's queries in their order on `cursor`, each result stored as a temp table
    under its name; the grown quantities rated with rpt_rating_sql's rate_usage. `cost_curve`:
    (model tier, yearly decline) replacing the build's decline of the tiers it names."""
    sql = workspace.sql

    def run(name: str, into: str | None = None) -> pd.DataFrame | None:
        params = {parameter: float(values[parameter]) for parameter in sql.parameters[name]}
        text = sql.queries[name]
        if into is None:
            return cursor.execute(text, params).df()
        cursor.execute(f"create or replace temp table {into} as {text}", params)
        return None

    def rate(usage_query: str, components: str, engine: str | None = None) -> pa.Table:
        run(usage_query, into="rating_usage")
        cursor.execute(
            f"create or replace temp view rating_price_components as select * from {components}"
        )
        # the projection reads a line's account (the rating key), model and amount only
        return cursor.sql(
            f"select account_id, price_model_id, amount from ({engine or sql.rate_usage})"
            " as rated_lines"
        ).to_arrow_table()

    cursor.execute(
        "create or replace temp view rating_price_components as select * from price_book_components"
    )
    _use_bases(cursor, "projection_rated_bases")
    run("projection_rates", into="projection_rates")
    run("projection_usage_grown", into="projection_usage_grown")
    rated_key = tuple(float(values[name]) for name in _RATED_BY)
    with workspace.lock:
        rated = workspace.rated.get(rated_key)
    if rated is None:
        rated = _rated_from_grid(cursor, workspace, values)
    if rated is None:
        engine = None
        # each sampled account under the models it stands for (and the current model); a build
        # published before the restricted rating rates it under every model, to the same figures
        if not workspace.exact and "projection_edit_rating" in sql.queries:
            run("projection_edit_account_models", into="projection_edit_account_models")
            engine = sql.queries["projection_edit_rating"]
        rated = {
            "projection_rated_lines": rate(
                "projection_rating_usage", "price_book_components", engine
            ),
            "backtest_rated_lines": rate("backtest_rating_usage", "backtest_components"),
        }
    with workspace.lock:
        if rated_key not in workspace.rated:
            while len(workspace.rated) >= _RATED_KEPT:
                workspace.rated.pop(next(iter(workspace.rated)))
            workspace.rated[rated_key] = rated
    for name, lines in rated.items():
        cursor.register(f"{name}_arrow", lines)
        cursor.execute(f"create or replace temp view {name} as select * from {name}_arrow")
    if workspace.exact:
        run("projection_by_segment", into="projection_by_segment")
    else:
        run("projection_by_segment_sampled", into="projection_by_segment_sampled")
        run("projection_by_segment_estimated", into="projection_by_segment")
    _use_bases(cursor, "projection_backtest_bases")
    run("projection_backtest", into="projection_backtest")
    run("revenue_projection", into="revenue_projection")
    # the cost curve as edited (a tier not given keeps the build's decline)
    edited = pd.DataFrame(
        list(cost_curve), columns=["model", "projection_yearly_decline"], dtype=object
    ).astype({"model": str, "projection_yearly_decline": float})
    cursor.register("edited_cost_curve", edited)
    cursor.execute(
        """
        create or replace temp table projection_cost_curve as
        select build.model,
            coalesce(edited.projection_yearly_decline, build.projection_yearly_decline)
                as projection_yearly_decline
        from build_cost_curve as build
        left join edited_cost_curve as edited on build.model = edited.model
        """
    )
    cursor.unregister("edited_cost_curve")
    margin = run("projection_margin_and_cash")
    projection = cursor.execute("select * from revenue_projection").df()
    backtest = cursor.execute("select * from projection_backtest").df()
    rates = cursor.execute("select * from projection_rates where origin_kind = 'projection'").df()
    return {"projection": projection, "backtest": backtest, "rates": rates, "margin": margin}


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner=False)
def _cached_re_projection(
    path: str,
    version: str,
    assumptions: tuple[tuple[str, float], ...],
    cost_curve: tuple[tuple[str, float], ...] = (),
    exact: bool = False,
) -> dict[str, pd.DataFrame]:
    workspace = _projection_workspace(path, version, exact)
    with workspace.connection.cursor() as cursor:
        return _re_project(cursor, workspace, dict(assumptions), cost_curve)


def re_projection(
    assumptions: tuple[tuple[str, float], ...],
    cost_curve: tuple[tuple[str, float], ...] = (),
    *,
    exact: bool = False,
) -> dict[str, pd.DataFrame]:
    """fct_revenue_projection (`projection`), its backtest (`backtest`), the rates applied
    (`rates`, origin `projection`) and fct_projection_margin_and_cash (`margin`) re-projected
    under other assumptions (setting name, value) and another cost curve (model tier, yearly
    decline) with the build's own projection and rating SQL over the edit sample (docs block
    projection_edit_estimate), or with `exact` over every account of the base; an assumption or a
    tier not given keeps its value in force. With none given it is the build's projection, row for
    row."""
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not re-project the revenue.", f"No warehouse file at {current.path}."
        )
    try:
        workspace = _projection_workspace(str(current.path), current.version, exact)
        values = workspace.in_force | dict(assumptions)
        key = tuple((name, float(values[name])) for name in workspace.in_force)
        curve = tuple(sorted((str(model), float(decline)) for model, decline in cost_curve))
        return _cached_re_projection(str(current.path), current.version, key, curve, exact)
    except (duckdb.Error, KeyError, ValueError) as error:
        raise QueryFailed(
            "Could not re-project the revenue with these assumptions.",
            f"{type(error).__name__}: {error}",
        ) from error


def projection_margin_and_cash(segment: str, models: tuple[str, ...]) -> pd.DataFrame:
    """fct_projection_margin_and_cash of one segment (or `all`) for the chosen models, every
    scenario: the projected MRR beside its cost to serve, gross margin and cash."""
    return _read(
        "the projection's margin and cash",
        """
        select margin.*, models.name
        from marts.fct_projection_margin_and_cash as margin
        inner join marts.dim_price_models as models
            on margin.price_model_id = models.price_model_id
        where margin.segment = ? and list_contains(?, margin.price_model_id)
        order by models.is_current_model desc, margin.price_model_id, margin.scenario,
            margin.months_ahead
        """,
        (segment, list(models)),
    )


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
