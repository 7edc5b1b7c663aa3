"""Stand-in for dbt's `adapter.dispatch` under `templater = jinja`: the DuckDB rendering of our
dispatchable macros, enough for the linter to see well-formed SQL."""

_RENDERINGS = {
    "star_exclude": lambda columns: f"* exclude ({', '.join(columns)})",
    "greatest_ignoring_nulls": lambda expressions: f"greatest({', '.join(expressions)})",
    "billing_period_start": lambda a, m, i: f"{a} + to_months(({m}) * ({i}))",
    "divide_rounding_half_up_to_cents": lambda n, d: f"round(({n}) / ({d}), 2)",
    "divide_exactly": lambda numerator, denominator: f"(({numerator}) / ({denominator}))",
    "ceil_divide_exactly": lambda n, d: f"ceil(({n}) / ({d}))",
    "double_quotient": lambda n, d: f"{n} / {d}",
    "double_to_decimal": lambda value, p, s: f"cast({value} as decimal({p}, {s}))",
    "rating_fingerprint": lambda columns: f"cast(hash({', '.join(columns)}) as decimal(38, 0))",
    "rating_row_fingerprint": lambda alias: f"cast(hash({alias}) as decimal(38, 0))",
    "rating_decimal_list": lambda: "decimal(38, 12)[]",
    "prepaid_pool_replay": lambda component_units, pool_state=None: (
        "pool_replayed as (select account_id, period, price_model_id, component_id, opening_units,"
        " available_units, used_units, overage_units, expired_units, closing_units, alert_pct from "
        + component_units
        + ")"
    ),
}


def dispatch(macro_name, macro_namespace=None):
    return _RENDERINGS[macro_name]
