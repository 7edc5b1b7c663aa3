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

`suites` declares what is expected of each export, `validation` runs a suite through GX on a
refresh's rows, `results` keeps what a validation found (the audit table, the Data Docs index).
"""

from orchestration.lib.expectations.results import (
    DOCS_SITE,
    OUTCOME_FILE,
    RESULT_FIELDS,
    RESULTS_DDL,
    RESULTS_TABLE,
    ValidationOutcome,
    record_outcome,
)
from orchestration.lib.expectations.suites import (
    MAX_SEATS_PER_EVENT,
    MAX_TOKENS_PER_EVENT,
    MAX_USD_PER_UNIT,
    MIN_USD_PER_UNIT,
    suite,
)
from orchestration.lib.expectations.validation import (
    COMPILED_TEMPLATES,
    EXAMPLE_COUNT,
    RESULT_FORMAT,
    let_gx_keep_one_duckdb_connection,
    let_gx_reuse_compiled_templates,
    validate_export,
)

__all__ = [
    "COMPILED_TEMPLATES",
    "DOCS_SITE",
    "EXAMPLE_COUNT",
    "MAX_SEATS_PER_EVENT",
    "MAX_TOKENS_PER_EVENT",
    "MAX_USD_PER_UNIT",
    "MIN_USD_PER_UNIT",
    "OUTCOME_FILE",
    "RESULTS_DDL",
    "RESULTS_TABLE",
    "RESULT_FIELDS",
    "RESULT_FORMAT",
    "ValidationOutcome",
    "let_gx_keep_one_duckdb_connection",
    "let_gx_reuse_compiled_templates",
    "record_outcome",
    "suite",
    "validate_export",
]
