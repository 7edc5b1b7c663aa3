"""Shaping for the Projection and Migration plan pages and the decision pack: the marts' rows
into the tables and series they show. No SQL here (lib.queries) and no layout (the pages)."""

from __future__ import annotations

import pandas as pd

from dashboards.lib.format import percent

SCENARIOS = ("worst", "middle", "best")
HORIZONS = (6, 12, 24)  # the totals a pricing review asks for


def totals_table(totals: pd.DataFrame) -> pd.DataFrame:
    """One row per model: its 6/12/24-month totals in each scenario, and the backtest error."""
    if totals.empty:
        return pd.DataFrame()
    wide = totals.pivot_table(
        index=["price_model_id", "name", "is_current_model"],
        columns=["horizon_months", "scenario"],
        values="projected_revenue_usd",
        aggfunc="sum",
    )
    wide.columns = [f"{scenario}_{months}m" for months, scenario in wide.columns]
    ordered = [f"{scenario}_{months}m" for months in HORIZONS for scenario in SCENARIOS]
    wide = wide[[column for column in ordered if column in wide.columns]].reset_index()
    if "projected_choice_revenue_usd" in totals:
        # under customer choice, middle scenario: what offering the proposal as an option brings
        middle = totals[totals["scenario"] == "middle"]
        choice = middle.pivot_table(
            index="price_model_id",
            columns="horizon_months",
            values="projected_choice_revenue_usd",
            aggfunc="sum",
        )
        choice.columns = [f"choice_{months}m" for months in choice.columns]
        wide = wide.merge(choice.reset_index(), on="price_model_id", how="left")
    aggregates = {
        "backtest_mape": ("backtest_mape", "first"),
        "is_backtest_carried": ("is_backtest_carried", "first"),
    }
    for column in ("choosing_accounts", "base_accounts"):
        if column in totals:
            aggregates[column] = (column, "max")
    errors = totals.groupby("price_model_id", as_index=False).agg(**aggregates)
    table = wide.merge(errors, on="price_model_id", how="left")
    return table.sort_values(["is_current_model", "price_model_id"], ascending=[False, True])


def total_of(totals: pd.DataFrame, price_model_id: str, scenario: str, months: int) -> float | None:
    rows = totals[
        (totals["price_model_id"] == price_model_id)
        & (totals["scenario"] == scenario)
        & (totals["horizon_months"] == months)
    ]
    return None if rows.empty else float(rows["projected_revenue_usd"].iloc[0])


def choice_total_of(
    totals: pd.DataFrame, price_model_id: str, months: int, scenario: str = "middle"
) -> float | None:
    """A proposal's projected total under customer choice (docs block projection_choice_revenue)
    over months 1 .. `months`."""
    rows = totals[
        (totals["price_model_id"] == price_model_id)
        & (totals["scenario"] == scenario)
        & (totals["horizon_months"] == months)
    ]
    if rows.empty or "projected_choice_revenue_usd" not in rows:
        return None
    return float(rows["projected_choice_revenue_usd"].iloc[0])


def choosing_text(totals: pd.DataFrame, price_model_id: str) -> str:
    """ "10 of 37 accounts take it": the base's accounts that would take the proposal."""
    rows = totals[totals["price_model_id"] == price_model_id]
    if rows.empty or "choosing_accounts" not in rows:
        return ""
    return (
        f"{int(rows['choosing_accounts'].max()):,} of {int(rows['base_accounts'].max()):,} "
        "accounts take it"
    )


def backtest_mape(backtest: pd.DataFrame, column: str = "backtest_mape") -> float | None:
    """An error of the backtest: the method's (backtest_mape), flat_mape or trailing_nrr_mape."""
    if backtest.empty or column not in backtest or backtest[column].isna().all():
        return None
    return float(backtest[column].dropna().iloc[0])


def backtest_months_back(backtest: pd.DataFrame) -> int | None:
    """How many months the backtest projects from its origin (projection_backtest_months, fewer
    where the history is shorter)."""
    if backtest.empty:
        return None
    return int(backtest["months_ahead"].max())


def backtest_verdict(backtest: pd.DataFrame) -> tuple[bool | None, str]:
    """Whether the method beats both naive forecasts on the same backtest: its error below each
    one's. Where it does not, the sentence names the forecast it does not beat, with both errors,
    however close they are: a method no better than a naive forecast earns no more trust than it.
    (None, why) when there is no backtest to judge."""
    method = backtest_mape(backtest)
    naive = {
        "flat": backtest_mape(backtest, "flat_mape"),
        "trailing-NRR": backtest_mape(backtest, "trailing_nrr_mape"),
    }
    if method is None or any(error is None for error in naive.values()):
        return None, "Not enough history to compare the method with the naive forecasts."
    ahead = backtest[backtest["months_ahead"] > 0]
    if (ahead["projected_revenue_usd"] == ahead["flat_revenue_usd"]).all():
        # a tie is not a win: the method measured nothing to move the base by
        origin = pd.Timestamp(backtest["backtest_origin_month"].iloc[0])
        return False, (
            f"The method does not beat the flat forecast here: from {origin:%B %Y} it projected "
            "the base flat, having no churn or growth to measure before that month (the history "
            "is too short, or showed none), so the two tie. Trust the band less than its error "
            "suggests."
        )
    failures = [
        f"the {name} forecast ({percent(error)} against the method's {percent(method)})"
        for name, error in naive.items()
        if error is not None and method >= error
    ]
    if failures:
        return False, (
            f"The method does not beat {' nor '.join(failures)} here: trust the band less than "
            "its error suggests."
        )
    return True, "The method beats both naive forecasts on the same backtest."


def rates_table(rates: pd.DataFrame) -> pd.DataFrame:
    """The rates in force by segment and metric: churn once per segment, growth per metric, the
    three scenarios side by side."""
    if rates.empty:
        return pd.DataFrame()
    growth = rates.pivot_table(
        index=["segment", "metric"],
        columns="scenario",
        values="monthly_growth_rate",
        aggfunc="first",
    )
    growth = growth[[scenario for scenario in SCENARIOS if scenario in growth.columns]]
    growth.columns = [f"growth_{scenario}" for scenario in growth.columns]
    measured = rates.groupby(["segment", "metric"]).agg(
        measured_growth_rate=("measured_growth_rate", "first"),
        growth_rate_error=("growth_rate_error", "first"),
    )
    if {"is_growth_trended", "growth_trend_slope"} <= set(rates.columns):
        # a deepening decline: the monthly rate falls by this much more each month (fading), so
        # the months ahead decline faster than the rate alone says; empty where it does not apply
        trended = rates["is_growth_trended"].fillna(False).astype(bool)
        measured = measured.join(
            rates.assign(growth_trend=rates["growth_trend_slope"].where(trended))
            .groupby(["segment", "metric"])
            .agg(growth_trend=("growth_trend", "first"))
        )
    return growth.join(measured).reset_index()


def churn_table(rates: pd.DataFrame) -> pd.DataFrame:
    if rates.empty:
        return pd.DataFrame()
    churn = rates.pivot_table(
        index="segment", columns="scenario", values="monthly_churn_rate", aggfunc="first"
    )
    churn = churn[[scenario for scenario in SCENARIOS if scenario in churn.columns]]
    churn.columns = [f"churn_{scenario}" for scenario in churn.columns]
    measured = rates.groupby("segment").agg(
        measured_churn_rate=("measured_churn_rate", "first"),
        churn_rate_error=("churn_rate_error", "first"),
    )
    return churn.join(measured).reset_index()


def impact_totals(impact: pd.DataFrame, months: int = 12) -> dict[str, float]:
    """Revenue over the plan's first `months` months (months_ahead 1 .. months), three ways."""
    window = impact[(impact["months_ahead"] >= 1) & (impact["months_ahead"] <= months)]
    return {
        column: float(window[column].sum())
        for column in (
            "current_revenue_usd",
            "proposed_revenue_usd",
            "plan_revenue_usd",
            "transition_credits_usd",
            "current_projected_revenue_usd",
            "proposed_projected_revenue_usd",
            "plan_projected_revenue_usd",
            "plan_choice_revenue_usd",
            "plan_choice_projected_revenue_usd",
        )
        if column in window
    }


def impact_long(impact: pd.DataFrame) -> pd.DataFrame:
    """The plan's projected MRR beside its two references, one row per month and line."""
    lines = {
        "current_projected_revenue_usd": "Stay on the current model",
        "proposed_projected_revenue_usd": "Everyone switches at once, no credit",
        "plan_projected_revenue_usd": "The plan",
        "plan_choice_projected_revenue_usd": "The plan, offered as an option",
    }
    lines = {column: line for column, line in lines.items() if column in impact}
    long = impact.melt(
        id_vars=["month"], value_vars=list(lines), var_name="line", value_name="revenue_usd"
    )
    long["line"] = long["line"].map(lines)
    return long


def choice_long(
    projection: pd.DataFrame, proposal: str, current: str | None, names: dict[str, str]
) -> pd.DataFrame:
    """A proposal's monthly MRR (middle scenario) forced on everyone and under customer choice,
    beside the current model's, one row per month and line, for a chart and its download."""
    middle = projection[projection["scenario"] == "middle"]
    offered = middle[middle["price_model_id"] == proposal]
    name = names.get(proposal, proposal)
    parts = [
        offered.assign(line=f"{name}: forced switch", revenue_usd=offered["projected_revenue_usd"]),
        offered.assign(
            line=f"{name}: under choice", revenue_usd=offered["projected_choice_revenue_usd"]
        ),
    ]
    if current is not None:
        stay = middle[middle["price_model_id"] == current]
        parts.insert(
            0,
            stay.assign(
                line="Stay on the current model", revenue_usd=stay["projected_revenue_usd"]
            ),
        )
    long = pd.concat(parts, ignore_index=True)
    long["revenue_usd"] = long["revenue_usd"].astype("float64")
    return long[["month", "months_ahead", "line", "revenue_usd"]]


# ---- the projection re-projected under edited assumptions (queries.re_projection) -------------


def assumption_label(name: str) -> str:
    """A setting's name as a control's label (`projection_shock_churn` -> `Shock churn`)."""
    return name.removeprefix("projection_").replace("_", " ").capitalize()


def edit_method(exact: bool, settings: dict[str, dict]) -> str:
    """How the edited figures were computed, for the page's note: every account, or the edit
    sample with its size and the tolerance the tests hold it to (rpt_settings' rows by name)."""
    if exact:
        return "Every account of the base was re-projected: the figures are exact."
    sample = settings.get("projection_edit_sample_accounts", {}).get("value")
    tolerance = settings.get("projection_edit_tolerance", {}).get("value")
    if sample is None or tolerance is None:
        return "The figures are estimated from the edit sample."
    note = (
        f"The figures are estimated from the edit sample (at most {float(sample):,.0f} strata of "
        "accounts per segment and model, one account standing for each): the tests hold every "
        f"total within ±{float(tolerance):.0%} of an exact re-projection; switch on the exact "
        "re-projection to check one."
    )
    grid = settings.get("projection_edit_growth_grid", {}).get("value")
    if grid:
        note += (
            f" The build rated the sample at the growth multipliers {grid} and the one in force: "
            "an edit of the growth alone between two of them moves each bill between its two "
            "rated amounts."
        )
    return note


def edited_assumptions(
    chosen: dict[str, float], in_force: dict[str, float]
) -> tuple[tuple[str, float], ...]:
    """The assumptions whose chosen value differs from the build's, in the order given."""
    return tuple(
        (name, float(value))
        for name, value in chosen.items()
        if name in in_force and float(value) != float(in_force[name])
    )


def projection_of(
    projection: pd.DataFrame, segment: str, models: tuple[str, ...], names: dict[str, str]
) -> pd.DataFrame:
    """A re-projection's rows of one segment for the chosen models, named and ordered as
    queries.revenue_projection's."""
    rows = projection[
        (projection["segment"] == segment) & projection["price_model_id"].isin(models)
    ].copy()
    rows["name"] = rows["price_model_id"].map(names)
    return rows.sort_values(
        ["is_current_model", "price_model_id", "scenario", "months_ahead"],
        ascending=[False, True, True, True],
    ).reset_index(drop=True)


def totals_of(
    projection: pd.DataFrame, segment: str, horizons: tuple[int, ...], names: dict[str, str]
) -> pd.DataFrame:
    """A re-projection's totals over months 1 .. h for each horizon h, per model and scenario, in
    queries.projection_totals' columns (month 0 has happened)."""
    rows = projection[projection["segment"] == segment]
    parts = []
    for months in horizons:
        window = rows[(rows["months_ahead"] >= 1) & (rows["months_ahead"] <= months)]
        aggregates = {
            "projected_revenue_usd": ("projected_revenue_usd", "sum"),
            "backtest_mape": ("backtest_mape", "first"),
            "is_backtest_carried": ("is_backtest_carried", "any"),
        }
        # under customer choice, where the projection has it (a build before it has not)
        for column, how in (
            ("projected_choice_revenue_usd", "sum"),
            ("choosing_accounts", "max"),
            ("base_accounts", "max"),
        ):
            if column in rows:
                aggregates[column] = (column, how)
        summed = window.groupby(
            ["price_model_id", "is_current_model", "scenario"], as_index=False
        ).agg(**aggregates)
        summed["horizon_months"] = months
        parts.append(summed)
    if not parts:
        return pd.DataFrame()
    totals = pd.concat(parts, ignore_index=True)
    totals["name"] = totals["price_model_id"].map(names)
    return totals.sort_values(
        ["is_current_model", "price_model_id", "horizon_months", "scenario"],
        ascending=[False, True, True, True],
    ).reset_index(drop=True)


def backtest_of(backtest: pd.DataFrame, segment: str) -> pd.DataFrame:
    """A re-projection's backtest of one segment, in queries.projection_backtest's columns."""
    rows = backtest[backtest["segment"] == segment]
    return (
        rows[
            [
                "months_ahead",
                "month",
                "backtest_origin_month",
                "projected_revenue_usd",
                "actual_revenue_usd",
                "flat_revenue_usd",
                "trailing_nrr_revenue_usd",
                "trailing_nrr",
                "absolute_percentage_error",
                "backtest_mape",
                "flat_mape",
                "trailing_nrr_mape",
            ]
        ]
        .sort_values("months_ahead")
        .reset_index(drop=True)
    )


def rates_of(rates: pd.DataFrame, segment: str) -> pd.DataFrame:
    """A re-projection's rates applied (origin `projection`), as queries.projection_rates'."""
    rows = rates if segment == "all" else rates[rates["segment"] == segment]
    return rows.sort_values(["segment", "metric", "scenario"]).reset_index(drop=True)


def new_business_total(new_business: pd.DataFrame, months: int) -> float:
    """The new-business line's revenue over months 1 .. `months` (month 0 holds none)."""
    window = new_business[
        (new_business["months_ahead"] >= 1) & (new_business["months_ahead"] <= months)
    ]
    return float(window["projected_new_revenue_usd"].sum())
