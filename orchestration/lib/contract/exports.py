"""The exports of shared/contracts/exports.md: their files, columns, types, keys and value rules.

A column's value rules (required, allowed values, minimum, pattern, default) are attributes of
the column; the rules between rows and exports are declared in `rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical types of exports.md and how the raw layer stores them. Money is never a float.
RAW_TYPES = {
    "string": "varchar",
    "timestamp": "timestamp",  # UTC, converted from the file's offset at load time
    "date": "date",
    "money": "decimal(18, 4)",  # at most 4 decimals in the file
    "integer": "bigint",
    "decimal": "decimal(18, 8)",
}

# Columns the loader adds to every raw row, so every row traces back to its file.
LINEAGE_COLUMNS = {
    "_refresh_id": "varchar",  # the refresh that loaded the row
    "_file_name": "varchar",  # the landing file, by name
    "_row_number": "bigint",  # 1-based data row in that file (header excluded)
    "_loaded_at": "timestamp",  # UTC
    "_extra": "varchar",  # JSON object of columns the contract does not know, or null
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of RAW_TYPES
    required: bool = False  # the value must not be empty
    optional: bool = False  # the column may be absent from a file
    allowed: tuple[str, ...] | None = None  # value must be one of these (when not empty)
    minimum: float | None = None  # inclusive lower bound (when not empty)
    exclusive_minimum: float | None = None  # strict lower bound (when not empty)
    default: int | None = None  # value taken by an empty, not required integer
    pattern: str | None = None  # regular expression a non-empty string must match

    @property
    def raw_type(self) -> str:
        return RAW_TYPES[self.type]


@dataclass(frozen=True)
class Export:
    name: str  # the `<export>` of `<export>__<anything>.<ext>`
    schema: str  # raw schema in the warehouse (= dbt source name)
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    latest_wins_by: str | None = None  # `updated_at` for snapshot exports, else first wins
    depends_on: tuple[str, ...] = field(default_factory=tuple)  # exports its rules look up
    optional_export: bool = False

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


CURRENCY = r"^[A-Z]{3}$"
COUNTRY = r"^[A-Z]{2}$"

EXPORTS: dict[str, Export] = {
    export.name: export
    for export in [
        Export(
            "accounts",
            "crm",
            "accounts",
            (
                Column("account_id", "string", required=True),
                Column("account_name", "string", required=True),
                Column(
                    "segment",
                    "string",
                    required=True,
                    allowed=("smb", "mid_market", "enterprise"),
                ),
                Column("country", "string", pattern=COUNTRY),
                Column("currency", "string", pattern=CURRENCY),
                Column("created_at", "timestamp", required=True),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("account_id",),
            latest_wins_by="updated_at",
        ),
        Export(
            "plans",
            "billing",
            "plans",
            (
                Column("plan_id", "string", required=True),
                Column("plan_name", "string", required=True),
                Column("currency", "string", pattern=CURRENCY),
                Column("billing_interval", "string", allowed=("month", "year")),
                Column("seat_unit_amount", "money", required=True, minimum=0),
                Column("platform_fee_amount", "money", optional=True, minimum=0),
                Column("effective_from", "date", required=True),
            ),
            key=("plan_id", "effective_from"),
        ),
        Export(
            "subscriptions",
            "billing",
            "subscriptions",
            (
                Column("subscription_id", "string", required=True),
                Column("account_id", "string", required=True),
                Column("plan_id", "string", required=True),
                Column("status", "string", allowed=("active", "past_due", "canceled")),
                Column("started_at", "timestamp", required=True),
                Column("canceled_at", "timestamp", optional=True),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("subscription_id",),
            latest_wins_by="updated_at",
            depends_on=("accounts", "plans"),
        ),
        Export(
            "seat_events",
            "entitlements",
            "seat_events",
            (
                Column("event_id", "string", required=True),
                Column("account_id", "string", required=True),
                Column("subscription_id", "string", required=True),
                Column(
                    "event_type",
                    "string",
                    required=True,
                    allowed=(
                        "seat_added",
                        "seat_removed",
                        "seat_suspended",
                        "seat_reactivated",
                        "seat_reassigned",
                        "correction",
                    ),
                ),
                Column("quantity", "integer", required=True, minimum=1),
                Column("seat_role", "string", optional=True, allowed=("admin", "member", "viewer")),
                Column("user_id", "string", optional=True),
                Column("effective_at", "timestamp", required=True),
                Column("recorded_at", "timestamp", required=True),
                Column("corrects_event_id", "string"),
                Column("source", "string", allowed=("app", "api", "admin", "sales")),
            ),
            key=("event_id",),
            depends_on=("accounts", "subscriptions"),
        ),
        Export(
            "usage_events",
            "telemetry",
            "usage_events",
            (
                Column("event_id", "string", required=True),
                Column("account_id", "string", required=True),
                Column("actor_type", "string", required=True, allowed=("human", "agent")),
                Column("user_id", "string"),
                Column("agent_id", "string"),
                Column("occurred_at", "timestamp", required=True),
                Column("feature", "string", required=True),
                Column("model", "string", required=True),
                Column("input_tokens", "integer", minimum=0, default=0),
                Column("output_tokens", "integer", minimum=0, default=0),
                Column("tasks", "integer", minimum=0, default=1),
                Column("outcome", "string", allowed=("resolved", "escalated", "failed")),
            ),
            key=("event_id",),
            depends_on=("accounts",),
        ),
        Export(
            "invoices",
            "billing",
            "invoices",
            (
                Column("invoice_id", "string", required=True),
                Column("account_id", "string", required=True),
                Column("subscription_id", "string", required=True),
                Column("currency", "string", pattern=CURRENCY),
                Column("period_start", "timestamp", required=True),
                Column("period_end", "timestamp", required=True),
                Column("issued_at", "timestamp", required=True),
                Column(
                    "status",
                    "string",
                    allowed=("draft", "open", "paid", "void", "uncollectible"),
                ),
                Column("subtotal", "money", required=True),
                Column("tax", "money", minimum=0),
                Column("total", "money", required=True),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("invoice_id",),
            latest_wins_by="updated_at",
            depends_on=("accounts",),
        ),
        Export(
            "invoice_lines",
            "billing",
            "invoice_lines",
            (
                Column("line_id", "string", required=True),
                Column("invoice_id", "string", required=True),
                Column(
                    "line_type",
                    "string",
                    allowed=("subscription", "proration", "usage", "discount", "credit"),
                ),
                Column("description", "string"),
                Column("quantity", "decimal"),
                Column("unit_amount", "money"),
                Column("amount", "money", required=True),
                Column("period_start", "timestamp"),
                Column("period_end", "timestamp"),
                Column("source_event_id", "string"),
            ),
            key=("line_id",),
            depends_on=("invoices",),
        ),
        Export(
            "support_tickets",
            "helpdesk",
            "support_tickets",
            (
                Column("ticket_id", "string", required=True),
                Column("account_id", "string", required=True),
                Column("created_at", "timestamp", required=True),
                Column("category", "string", allowed=("billing", "pricing", "technical", "other")),
            ),
            key=("ticket_id",),
            optional_export=True,
        ),
        Export(
            "fx_rates",
            "treasury",
            "fx_rates",
            (
                Column("rate_date", "date", required=True),
                Column("currency", "string", required=True, pattern=CURRENCY),
                Column("usd_per_unit", "decimal", required=True, exclusive_minimum=0),
            ),
            key=("rate_date", "currency"),
            optional_export=True,
        ),
    ]
}

# Load order that satisfies `depends_on` (the Dagster asset graph encodes the same order).
LOAD_ORDER = [
    "accounts",
    "plans",
    "fx_rates",
    "subscriptions",
    "seat_events",
    "usage_events",
    "invoices",
    "invoice_lines",
    "support_tickets",
]

FILE_EXTENSIONS = ("csv", "csv.gz", "parquet", "jsonl", "jsonl.gz")


def raw_table_ddl(export: Export) -> str:
    """`create table if not exists` for the export's raw table: contract columns, then lineage."""
    columns = [f"{column.name} {column.raw_type}" for column in export.columns]
    columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS.items()]
    body = ",\n    ".join(columns)
    return f"create table if not exists {export.relation} (\n    {body}\n)"
