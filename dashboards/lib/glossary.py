"""What each number on the dashboard means, shown on hover so nobody argues about it.

The audit definitions come from contracts/interfaces.md and exports.md; mart metrics will be read
from the dbt docs blocks once pages that show them exist.
"""

from __future__ import annotations

DEFINITIONS = {
    "data_as_of": (
        "The latest occurred_at, effective_at or issued_at among the loaded exports. "
        "Months run up to this time."
    ),
    "last_refresh": "The last refresh attempt: when it finished and whether it published a build.",
    "next_refresh": "The daily scheduled refresh (UTC): loads new landing files, republishes.",
    "files_loaded": (
        "Landing files whose rows went into the warehouse. Files seen before (same content hash) "
        "are skipped; files that cannot be parsed are rejected whole."
    ),
    "rows_loaded": "Rows that passed every rule of the export contract and were added.",
    "rows_quarantined": (
        "Rows that broke a rule of the export contract: kept in audit.quarantine with the file, "
        "row number, rule and original values, never loaded. "
        "For every file: rows read = rows loaded + duplicates + rows quarantined."
    ),
    "expectations_failed": (
        "Great Expectations checks on the raw exports that did not pass. A failed critical "
        "expectation blocks the build; a warning does not."
    ),
}
