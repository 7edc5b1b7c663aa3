"""The audit schema: what every refresh records about itself, defined once.

The loader writes `load_report` and `quarantine`, the GX checks `expectation_results`, publish
`refresh_log`; the dashboard's Data health page reads those four. The dbt step writes
`dbt_builds`. `AUDIT_DDL` creates them (safe on
every refresh) and upgrades a warehouse written before a column existed.
"""

from __future__ import annotations

LOAD_REPORT = "audit.load_report"
QUARANTINE = "audit.quarantine"
EXPECTATION_RESULTS = "audit.expectation_results"
REFRESH_LOG = "audit.refresh_log"
DBT_BUILDS = "audit.dbt_builds"

# File statuses of load_report.
LOADED = "loaded"
SKIPPED = "skipped_already_loaded"
REJECTED = "rejected"

AUDIT_TABLES = {
    LOAD_REPORT: f"""create table if not exists {LOAD_REPORT} (
        refresh_id varchar not null,
        file_name varchar not null,
        export varchar,
        content_sha256 varchar,
        status varchar not null,  -- {LOADED} | {SKIPPED} | {REJECTED}
        rows_read bigint not null default 0,
        rows_loaded bigint not null default 0,
        rows_duplicate bigint not null default 0,
        rows_quarantined bigint not null default 0,
        message varchar,
        loaded_at timestamp not null,
        -- The file as it stood when judged: a later refresh that finds the same name, size and
        -- modification time takes content_sha256 from here instead of reading the file again.
        file_size_bytes bigint,
        file_mtime_ns bigint
    )""",
    QUARANTINE: f"""create table if not exists {QUARANTINE} (
        refresh_id varchar not null,
        export varchar not null,
        file_name varchar not null,
        row_number bigint,
        rule varchar not null,  -- the first rule the row broke
        raw_record varchar not null,  -- JSON text of the original values (or the line)
        rules varchar[]  -- every rule the row broke
    )""",
    EXPECTATION_RESULTS: f"""create table if not exists {EXPECTATION_RESULTS} (
        refresh_id varchar,
        export varchar not null,
        relation varchar not null,
        expectation_type varchar not null,
        column_name varchar,
        rule varchar,
        is_critical boolean not null,
        success boolean not null,
        element_count bigint,
        unexpected_count bigint,
        unexpected_examples varchar,  -- JSON array of a few failing values
        details varchar,  -- JSON object: the expectation's kwargs, observed value, error if any
        validated_at timestamp not null
    )""",
    # Columns in this order: publish inserts by position.
    REFRESH_LOG: f"""create table if not exists {REFRESH_LOG} (
        refresh_id varchar not null,
        started_at timestamp not null,
        finished_at timestamp not null,
        status varchar not null,
        data_as_of timestamp,
        files_loaded bigint not null,
        rows_loaded bigint not null,
        rows_quarantined bigint not null,
        message varchar
    )""",
    # One row per `dbt build` that ran (a refresh with nothing new runs none): the inputs its marts
    # were built from, so the next refresh can tell whether a build would change anything.
    DBT_BUILDS: f"""create table if not exists {DBT_BUILDS} (
        refresh_id varchar not null,
        inputs_key varchar not null,  -- sha256: lib/dbt_project.build_inputs_key
        dbt_args varchar not null,  -- JSON list
        built_at timestamp not null
    )""",
}

# Columns added after warehouses existed without them: add, don't fail.
AUDIT_UPGRADES = [
    f"alter table {LOAD_REPORT} add column if not exists file_size_bytes bigint",
    f"alter table {LOAD_REPORT} add column if not exists file_mtime_ns bigint",
    f"alter table {QUARANTINE} add column if not exists rules varchar[]",
    f"alter table {EXPECTATION_RESULTS} add column if not exists rule varchar",
]

AUDIT_DDL = ["create schema if not exists audit", *AUDIT_TABLES.values(), *AUDIT_UPGRADES]
