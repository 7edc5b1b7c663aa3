"""The price book's format, checked before anything is rated (docs/price-book.md).

`problems(components, tiers, models)` returns every cell or row that breaks the format, each with
the table, the row (1-based, as the reader counts it), the column and the rule in words. The
*Shadow billing* page's what-if re-rates nothing until the list is empty; `seatshift rate` and a
refresh read the same CSVs the rating SQL checks again when it casts them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd

from orchestration.lib.rating import COMPONENT_COLUMNS

CHARGE_MODELS = (
    "flat_fee",
    "standard",
    "graduated",
    "volume",
    "package",
    "percentage",
    "graduated_percentage",
    "prepaid_pool",
)
TIERED = ("graduated", "volume", "graduated_percentage")
# The quantities an account-month is rated on (fct_rating_quantities' metrics).
METRICS = (
    "seats",
    "active_users",
    "input_tokens",
    "output_tokens",
    "tokens",
    "tasks",
    "agent_tasks",
    "resolutions",
    "requests",
    "credits",
    "platform",
    "plan_seat_charges_usd",
    "plan_platform_fees_usd",
    "plan_proration_charges_usd",
    "plan_proration_credits_usd",
)
# Money and counts that may not be negative in a proposal.
NON_NEGATIVE = (
    "unit_amount",
    "flat_amount",
    "package_amount",
    "free_units",
    "fixed_amount",
    "minimum_amount",
    "pool_units",
    "cap_amount",
)
PERCENTS = ("rate_pct", "rollover_pct")
TEXT_COLUMNS = (
    "price_model_id",
    "component_id",
    "metric",
    "charge_model",
    "free_units_per_metric",
    "cap_policy",
)
# What a spend cap does when the charge passes it (empty means the first): `hard` bills the cap and
# blocks the usage beyond it, `soft` bills in full and alerts.
CAP_POLICIES = ("hard", "soft")
# The line a model's own cap adds to each invoice; no component may take its id.
MODEL_CAP_COMPONENT = "model_cap"
# How a proposal is offered (price_models.csv `offered_as`; empty means the first): it replaces the
# current model for every account, or it is an option beside it and each account takes the cheaper.
OFFERED_AS = ("replacement", "option")
# The model every account keeps when it declines an option; it cannot be an option itself.
CURRENT_MODEL = "current_per_seat"


@dataclass(frozen=True)
class Problem:
    table: str  # "models", "components" or "tiers"
    row: int  # 1-based
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.table}, row {self.row}" if self.row else self.table
        return f"{where}, {self.column}: {self.message}"


def _is_empty(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _number(value: object) -> float | None:
    """The cell as a number; None when empty; raises ValueError when it is not a number."""
    if _is_empty(value):
        return None
    number = float(str(value).strip())
    if math.isnan(number) or math.isinf(number):
        raise ValueError(value)
    return number


def _numbers(frame: pd.DataFrame, table: str, columns) -> tuple[list[dict], list[Problem]]:
    """Each row's numeric cells parsed, and a problem for every cell that is not a number."""
    parsed: list[dict] = []
    found: list[Problem] = []
    for position, (_, row) in enumerate(frame.iterrows(), start=1):
        values: dict = {}
        for column in columns:
            if column not in frame.columns:
                values[column] = None
                continue
            try:
                values[column] = _number(row[column])
            except ValueError:
                found.append(Problem(table, position, column, f"{row[column]!r} is not a number"))
                values[column] = None
        parsed.append(values)
    return parsed, found


def _cap_problems(
    table: str, position: int, row: pd.Series, cap: float | None, floor: tuple[str, float] | None
) -> list[Problem]:
    """A spend cap's cells: money in cents, a known policy, a policy only with a cap, and not below
    what the line bills whatever the usage (`floor`: its column and amount)."""
    found: list[Problem] = []
    policy = row.get("cap_policy")
    if not _is_empty(policy) and str(policy).strip().lower() not in CAP_POLICIES:
        found.append(
            Problem(
                table,
                position,
                "cap_policy",
                f"{str(policy).strip()!r} is not a cap policy (hard: the bill stops at the cap; "
                "soft: an alert only; empty means hard)",
            )
        )
    if cap is None:
        if not _is_empty(policy):
            found.append(
                Problem(table, position, "cap_amount", "a cap policy needs its cap_amount")
            )
        return found
    if cap < 0:
        return found  # said already: a negative amount
    if round(cap, 2) != cap:
        found.append(Problem(table, position, "cap_amount", f"{cap:g} is not an amount in cents"))
    if floor is not None and floor[1] is not None and cap < floor[1]:
        found.append(
            Problem(
                table,
                position,
                "cap_amount",
                f"{cap:g} is below the {floor[0]} ({floor[1]:g}), which is billed whatever the "
                "usage: a cap cannot be lower",
            )
        )
    return found


def model_problems(models: pd.DataFrame) -> list[Problem]:
    """Every break of the format in price_models.csv: a model needs an id, once, and `offered_as`
    (when set) is `replacement` or `option`; the current model cannot be an option (it is what
    an account keeps when it declines one)."""
    found: list[Problem] = []
    seen: set[str] = set()
    for position, (_, row) in enumerate(models.iterrows(), start=1):
        model = "" if _is_empty(row.get("price_model_id")) else str(row["price_model_id"]).strip()
        if not model:
            found.append(Problem("models", position, "price_model_id", "every model needs an id"))
        elif model in seen:
            found.append(Problem("models", position, "price_model_id", f"{model!r} appears twice"))
        seen.add(model)
        try:
            cap = _number(row.get("cap_amount"))
        except ValueError:
            found.append(
                Problem("models", position, "cap_amount", f"{row['cap_amount']!r} is not a number")
            )
            cap = None
        if cap is not None and cap < 0:
            found.append(Problem("models", position, "cap_amount", f"{cap:g} is negative"))
        found += _cap_problems("models", position, row, cap, None)
        offered = row.get("offered_as")
        if _is_empty(offered):
            continue
        offered = str(offered).strip()
        if offered not in OFFERED_AS:
            found.append(
                Problem(
                    "models",
                    position,
                    "offered_as",
                    f"{offered!r} is not how a proposal is offered (one of {', '.join(OFFERED_AS)}"
                    ", or empty for replacement)",
                )
            )
        elif offered == "option" and model == CURRENT_MODEL:
            found.append(
                Problem(
                    "models",
                    position,
                    "offered_as",
                    "the current model is what an account keeps when it declines an option; it "
                    "cannot be offered as one",
                )
            )
    return found


def problems(
    components: pd.DataFrame, tiers: pd.DataFrame, models: pd.DataFrame | None = None
) -> list[Problem]:
    """Every break of the price-book format in one model's (or a whole book's) components and
    tiers, and in its models' rows when given. An empty list means the book can be rated."""
    found: list[Problem] = [] if models is None else model_problems(models)
    numeric = tuple(column for column in COMPONENT_COLUMNS if column not in TEXT_COLUMNS)
    parsed, bad = _numbers(components, "components", numeric)
    found += bad
    seen: set[tuple[str, str]] = set()
    charge_models: dict[tuple[str, str], str] = {}
    for position, ((_, row), values) in enumerate(
        zip(components.iterrows(), parsed, strict=True), start=1
    ):

        def problem(column: str, message: str, position: int = position) -> None:
            found.append(Problem("components", position, column, message))

        model = "" if _is_empty(row.get("price_model_id")) else str(row["price_model_id"])
        component = "" if _is_empty(row.get("component_id")) else str(row["component_id"]).strip()
        if not component:
            problem("component_id", "every component needs an id")
        elif (model, component) in seen:
            problem("component_id", f"{component!r} appears twice in the model")
        elif component == MODEL_CAP_COMPONENT:
            problem("component_id", f"{component!r} is the line of a model's own spend cap")
        seen.add((model, component))
        metric = "" if _is_empty(row.get("metric")) else str(row["metric"]).strip()
        if not metric:
            problem("metric", "say which quantity the component prices")
        elif metric not in METRICS:
            problem("metric", f"{metric!r} is not a rated quantity (one of {', '.join(METRICS)})")
        charge = "" if _is_empty(row.get("charge_model")) else str(row["charge_model"]).strip()
        if charge.lower() not in CHARGE_MODELS:
            problem(
                "charge_model",
                f"{charge or 'empty'!r} is not a charge model (one of {', '.join(CHARGE_MODELS)})",
            )
        charge = charge.lower()
        charge_models[(model, component)] = charge
        unit_size = values["unit_size"]
        if unit_size is not None and (unit_size < 1 or unit_size != int(unit_size)):
            problem(
                "unit_size",
                f"{str(row['unit_size']).strip()} is not a whole number of units of at least 1 "
                "(1 prices each unit, 1000 prices per thousand); a price goes in unit_amount",
            )
        # the current plan's own lines may be credits (its prorations of removed seats at -1)
        if not metric.startswith("plan_"):
            for column in NON_NEGATIVE:
                if values[column] is not None and values[column] < 0:
                    problem(
                        column, f"{values[column]:g} is negative; a proposal charges, never pays"
                    )
        for column in PERCENTS:
            if values[column] is not None and not 0 <= values[column] <= 100:
                problem(column, f"{values[column]:g} is not a percent from 0 to 100")
        free_metric = row.get("free_units_per_metric")
        if not _is_empty(free_metric) and str(free_metric).strip() not in METRICS:
            problem("free_units_per_metric", f"{free_metric!r} is not a rated quantity")
        if charge == "standard" and values["unit_amount"] is None:
            problem("unit_amount", "a standard component needs its price per unit")
        if charge == "flat_fee" and values["flat_amount"] is None:
            problem("flat_amount", "a flat fee needs its amount")
        if charge == "package":
            if values["package_size"] is None or values["package_size"] <= 0:
                problem("package_size", "a package component needs a package size above 0")
            if values["package_amount"] is None:
                problem("package_amount", "a package component needs the price of a package")
        if charge == "percentage" and values["rate_pct"] is None:
            problem("rate_pct", "a percentage component needs its rate")
        if charge == "prepaid_pool":
            if values["pool_units"] is None or values["pool_units"] <= 0:
                problem("pool_units", "a prepaid pool needs the units it holds, above 0")
            if values["flat_amount"] is None:
                problem("flat_amount", "a prepaid pool needs its price")
            periods = values["rollover_periods"]
            if periods is not None and (periods < 0 or periods != int(periods)):
                problem("rollover_periods", f"{periods:g} is not a whole number of months")
            term = values["pool_term_periods"]
            if term is not None and (term < 1 or term != int(term)):
                problem(
                    "pool_term_periods", f"{term:g} is not a whole number of months of at least 1"
                )
        floor = None
        if values["minimum_amount"] is not None:
            floor = ("minimum_amount", values["minimum_amount"])
        if charge in ("flat_fee", "prepaid_pool") and values["flat_amount"] is not None:
            floor = max(floor or ("", -math.inf), ("flat_amount", values["flat_amount"]),
                        key=lambda item: item[1])  # fmt: skip
        found.extend(_cap_problems("components", position, row, values["cap_amount"], floor))

    tier_parsed, bad = _numbers(tiers, "tiers", ("tier", "up_to", "per_unit_amount", "rate_pct"))
    found += bad
    by_component: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    for position, ((_, row), values) in enumerate(
        zip(tiers.iterrows(), tier_parsed, strict=True), start=1
    ):
        model = "" if _is_empty(row.get("price_model_id")) else str(row["price_model_id"])
        component = "" if _is_empty(row.get("component_id")) else str(row["component_id"]).strip()
        if (model, component) not in charge_models:
            found.append(
                Problem("tiers", position, "component_id", f"no component {component!r} to tier")
            )
            continue
        if charge_models[(model, component)] not in TIERED:
            found.append(
                Problem(
                    "tiers",
                    position,
                    "component_id",
                    f"{component!r} is not tiered ({charge_models[(model, component)]})",
                )
            )
        for column in ("per_unit_amount",):
            if values[column] is not None and values[column] < 0:
                found.append(Problem("tiers", position, column, "a tier's price is negative"))
        if values["rate_pct"] is not None and not 0 <= values["rate_pct"] <= 100:
            found.append(Problem("tiers", position, "rate_pct", "not a percent from 0 to 100"))
        by_component.setdefault((model, component), []).append((position, values))
    for (model, component), charge in charge_models.items():
        if charge not in TIERED:
            continue
        rows = sorted(
            by_component.get((model, component), []),
            key=lambda item: item[1]["tier"] if item[1]["tier"] is not None else math.inf,
        )
        if not rows:
            found.append(Problem("tiers", 0, "tier", f"{component!r} is {charge} and needs tiers"))
            continue
        for index, (position, values) in enumerate(rows, start=1):
            if values["tier"] != index:
                found.append(
                    Problem(
                        "tiers", position, "tier", f"tiers of {component!r} must run 1, 2, 3 ..."
                    )
                )
                break
        bounds = [values["up_to"] for _, values in rows]
        for (position, _), bound in zip(rows[:-1], bounds[:-1], strict=True):
            if bound is None:
                found.append(
                    Problem(
                        "tiers", position, "up_to", "only the last tier may have no upper bound"
                    )
                )
        finite = [bound for bound in bounds if bound is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(finite)):
            found.append(
                Problem(
                    "tiers", rows[0][0], "up_to", f"the tiers of {component!r} must rise (up_to)"
                )
            )
        if bounds[-1] is not None:
            found.append(
                Problem("tiers", rows[-1][0], "up_to", "the last tier must have no upper bound")
            )
    return found
