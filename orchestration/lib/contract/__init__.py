"""The export contract as data: the one definition of what a vendor delivers.

One place says which exports exist, where they land in the warehouse, their columns, types and
keys (`exports.py`), every rule a row is judged by (`rules.py`: value rules, plausible times,
foreign keys, rules between rows, the seat balance, periods that may not overlap) and what the
audit schema records (`audit.py`). The loader compiles it into SQL, the GX suites into
expectations, the generator writes by it, and the dbt sources and docs/exports.md are rendered
from it (`make contract`, checked by a test): change a rule here, not in four places.
"""

from orchestration.lib.contract.audit import AUDIT_DDL, AUDIT_TABLES
from orchestration.lib.contract.exports import (
    EXPORTS,
    FILE_EXTENSIONS,
    LINEAGE_COLUMNS,
    LOAD_ORDER,
    RAW_TYPES,
    Column,
    Export,
    raw_table_ddl,
)
from orchestration.lib.contract.rules import (
    CROSS_ROW,
    CROSS_ROW_RULES,
    IMPLAUSIBLE_TIME,
    MALFORMED_ROW,
    SEAT_SIGN,
    SEAT_SIGN_TABLE,
    rules_of,
    value_rules,
)

__all__ = [
    "AUDIT_DDL",
    "AUDIT_TABLES",
    "CROSS_ROW",
    "CROSS_ROW_RULES",
    "EXPORTS",
    "FILE_EXTENSIONS",
    "IMPLAUSIBLE_TIME",
    "LINEAGE_COLUMNS",
    "LOAD_ORDER",
    "MALFORMED_ROW",
    "RAW_TYPES",
    "SEAT_SIGN",
    "SEAT_SIGN_TABLE",
    "Column",
    "Export",
    "raw_table_ddl",
    "rules_of",
    "value_rules",
]
