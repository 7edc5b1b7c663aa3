"""Stand-in for dbt's `adapter.dispatch` under `templater = jinja`: the DuckDB rendering of our
dispatchable macros, enough for the linter to see well-formed SQL."""

_RENDERINGS = {
    "star_exclude": lambda columns: f"* exclude ({', '.join(columns)})",
    "greatest_ignoring_nulls": lambda expressions: f"greatest({', '.join(expressions)})",
}


def dispatch(macro_name, macro_namespace=None):
    return _RENDERINGS[macro_name]
