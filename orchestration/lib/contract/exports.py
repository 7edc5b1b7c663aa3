"""The exports a vendor delivers: their files, columns, types, keys, value rules and meaning.

A column's value rules (required, allowed values, minimum, pattern, default) are attributes of
the column; the rules between rows and exports are declared in `rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The contract's logical types and how the raw layer stores them. Money is never a float.
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
    "_refresh_id": "varchar",
    "_file_name": "varchar",
    "_row_number": "bigint",
    "_loaded_at": "timestamp",
    "_extra": "varchar",
}
LINEAGE_DESCRIPTIONS = {
    "_refresh_id": "The refresh that loaded the row.",
    "_file_name": "The landing file the row came from, by name.",
    "_row_number": "1-based data row in that file (header excluded).",
    "_loaded_at": "When the row was loaded (UTC).",
    "_extra": (
        "JSON object of the columns the contract does not know, or null; ignored downstream."
    ),
}

# The raw schemas (one a source system, the dbt source of the same name) and what each holds.
LOADED = "Loaded by the ingest step, one raw table an export: the contract's columns, then lineage."
SCHEMAS = {
    "crm": "The CRM export: accounts.",
    "billing": (
        "The billing system's exports: plans, subscriptions, invoices, invoice lines and the price"
        " model assignments (optional)."
    ),
    "entitlements": "The entitlement service's seat ledger input.",
    "telemetry": "The metering pipeline's usage events.",
    "helpdesk": "The help desk export (optional).",
    "treasury": (
        "The treasury's FX rates (optional; needed when an account is not billed in USD)."
    ),
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
    description: str = ""  # what the value means: the dbt sources and docs/exports.md say it

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
    description: str = ""  # what the export holds: the dbt sources and docs/exports.md say it

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
                Column("account_id", "string", required=True, description="The account's key."),
                Column("account_name", "string", required=True, description="The account's name."),
                Column(
                    "segment",
                    "string",
                    required=True,
                    allowed=("smb", "mid_market", "enterprise"),
                    description="`smb`, `mid_market` or `enterprise`.",
                ),
                Column(
                    "country",
                    "string",
                    pattern=COUNTRY,
                    description="ISO 3166-1 alpha-2 country code, e.g. `DE`.",
                ),
                Column(
                    "currency",
                    "string",
                    pattern=CURRENCY,
                    description="ISO 4217 code of the currency the account is billed in.",
                ),
                Column(
                    "created_at",
                    "timestamp",
                    required=True,
                    description="When the account was created (UTC).",
                ),
                Column(
                    "updated_at",
                    "timestamp",
                    required=True,
                    description=(
                        "When this version of the account was written (UTC); the latest wins."
                    ),
                ),
            ),
            key=("account_id",),
            latest_wins_by="updated_at",
            description=(
                "Accounts as the CRM exports them; a snapshot export: every delivered version of an"
                " account is kept, the latest `updated_at` wins downstream."
            ),
        ),
        Export(
            "plans",
            "billing",
            "plans",
            (
                Column(
                    "plan_id",
                    "string",
                    required=True,
                    description="The plan's key (with effective_from).",
                ),
                Column("plan_name", "string", required=True, description="The plan's name."),
                Column(
                    "currency",
                    "string",
                    pattern=CURRENCY,
                    description="ISO 4217 code of the plan's prices.",
                ),
                Column(
                    "billing_interval",
                    "string",
                    allowed=("month", "year"),
                    description="`month` or `year`.",
                ),
                Column(
                    "seat_unit_amount",
                    "money",
                    required=True,
                    minimum=0,
                    description=(
                        "Price of one seat for one billing interval, in the plan currency; >= 0."
                    ),
                ),
                Column(
                    "platform_fee_amount",
                    "money",
                    optional=True,
                    minimum=0,
                    description="Flat fee per billing interval (optional column); >= 0.",
                ),
                Column(
                    "effective_from",
                    "date",
                    required=True,
                    description="The price applies to periods starting on or after this date.",
                ),
            ),
            key=("plan_id", "effective_from"),
            description=(
                "Snapshot of the current per-seat price book. Key: plan_id + effective_from."
            ),
        ),
        Export(
            "subscriptions",
            "billing",
            "subscriptions",
            (
                Column(
                    "subscription_id",
                    "string",
                    required=True,
                    description="The subscription's key.",
                ),
                Column(
                    "account_id",
                    "string",
                    required=True,
                    description="The account that holds the subscription.",
                ),
                Column(
                    "plan_id",
                    "string",
                    required=True,
                    description="The plan the subscription is on.",
                ),
                Column(
                    "status",
                    "string",
                    allowed=("active", "past_due", "canceled"),
                    description="`active`, `past_due` or `canceled`.",
                ),
                Column(
                    "started_at",
                    "timestamp",
                    required=True,
                    description=(
                        "Start, and the billing-cycle anchor: periods run from the anchor to the "
                        "same day-of-month and time a month (or year) later, clamped to the last "
                        "day of shorter months."
                    ),
                ),
                Column(
                    "canceled_at",
                    "timestamp",
                    optional=True,
                    description="When access and billing end (optional column).",
                ),
                Column(
                    "updated_at",
                    "timestamp",
                    required=True,
                    description="When this version was written (UTC); the latest wins.",
                ),
            ),
            key=("subscription_id",),
            latest_wins_by="updated_at",
            depends_on=("accounts", "plans"),
            description="Subscriptions; a snapshot export (latest `updated_at` wins downstream).",
        ),
        Export(
            "seat_events",
            "entitlements",
            "seat_events",
            (
                Column(
                    "event_id",
                    "string",
                    required=True,
                    description="The event's key and the change's idempotency key.",
                ),
                Column(
                    "account_id",
                    "string",
                    required=True,
                    description="The account whose seats change.",
                ),
                Column(
                    "subscription_id",
                    "string",
                    required=True,
                    description="The subscription whose seats change; belongs to the account.",
                ),
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
                    description=(
                        "`seat_added`, `seat_removed`, `seat_suspended`, `seat_reactivated`, "
                        "`seat_reassigned` or `correction`."
                    ),
                ),
                Column(
                    "quantity",
                    "integer",
                    required=True,
                    minimum=1,
                    description=(
                        "How many seats the event adds, removes, suspends or reactivates; >= 1."
                    ),
                ),
                Column(
                    "seat_role",
                    "string",
                    optional=True,
                    allowed=("admin", "member", "viewer"),
                    description="`admin`, `member` or `viewer` (optional column).",
                ),
                Column(
                    "user_id",
                    "string",
                    optional=True,
                    description="Who holds the seat (for a reassignment: the new holder).",
                ),
                Column(
                    "effective_at",
                    "timestamp",
                    required=True,
                    description="When the change takes effect for access and billing (UTC).",
                ),
                Column(
                    "recorded_at",
                    "timestamp",
                    required=True,
                    description=(
                        "When the system recorded the change; may precede effective_at or follow it"
                        " (back-dated changes)."
                    ),
                ),
                Column(
                    "corrects_event_id",
                    "string",
                    description=(
                        "For a correction: the earlier event of the same subscription that it "
                        "voids; empty otherwise."
                    ),
                ),
                Column(
                    "source",
                    "string",
                    allowed=("app", "api", "admin", "sales"),
                    description="`app`, `api`, `admin` or `sales`.",
                ),
            ),
            key=("event_id",),
            depends_on=("accounts", "subscriptions"),
            description=(
                "Append-only seat ledger input: every add, removal, suspension, reactivation, "
                "reassignment and correction. Key: event_id (the idempotency key)."
            ),
        ),
        Export(
            "usage_events",
            "telemetry",
            "usage_events",
            (
                Column("event_id", "string", required=True, description="The event's key."),
                Column(
                    "account_id",
                    "string",
                    required=True,
                    description="The account that used the product.",
                ),
                Column(
                    "actor_type",
                    "string",
                    required=True,
                    allowed=("human", "agent"),
                    description="`human` or `agent`.",
                ),
                Column(
                    "user_id",
                    "string",
                    description="The human user; required for humans, empty for agents.",
                ),
                Column("agent_id", "string", description="The agent; required for agents."),
                Column(
                    "occurred_at",
                    "timestamp",
                    required=True,
                    description="When the usage happened (UTC).",
                ),
                Column(
                    "feature",
                    "string",
                    required=True,
                    description=(
                        "The product feature, e.g. `chat`, `summarize`, `ticket_triage`, "
                        "`workflow`."
                    ),
                ),
                Column(
                    "model",
                    "string",
                    required=True,
                    description=(
                        "The LLM tier that served the event, e.g. `small`, `medium`, `frontier`."
                    ),
                ),
                Column(
                    "input_tokens",
                    "integer",
                    minimum=0,
                    default=0,
                    description="Input tokens; >= 0 (empty means 0).",
                ),
                Column(
                    "output_tokens",
                    "integer",
                    minimum=0,
                    default=0,
                    description="Output tokens; >= 0 (empty means 0).",
                ),
                Column(
                    "tasks",
                    "integer",
                    minimum=0,
                    default=1,
                    description="Units of work the event completed; >= 0 (empty means 1).",
                ),
                Column(
                    "outcome",
                    "string",
                    allowed=("resolved", "escalated", "failed"),
                    description=(
                        "`resolved`, `escalated`, `failed` or empty; `resolved` is the billable "
                        "outcome."
                    ),
                ),
            ),
            key=("event_id",),
            depends_on=("accounts",),
            description=(
                "Append-only usage events; may arrive up to 35 days after `occurred_at`. Key: "
                "event_id. The biggest table (up to ~100M rows): read it once."
            ),
        ),
        Export(
            "invoices",
            "billing",
            "invoices",
            (
                Column("invoice_id", "string", required=True, description="The invoice's key."),
                Column("account_id", "string", required=True, description="The billed account."),
                Column(
                    "subscription_id",
                    "string",
                    required=True,
                    description="The subscription billed.",
                ),
                Column(
                    "currency",
                    "string",
                    pattern=CURRENCY,
                    description="ISO 4217 code; equals the account's currency.",
                ),
                Column(
                    "period_start",
                    "timestamp",
                    required=True,
                    description="Start of the billed period (UTC).",
                ),
                Column(
                    "period_end",
                    "timestamp",
                    required=True,
                    description="End of the billed period (UTC); later than period_start.",
                ),
                Column(
                    "issued_at",
                    "timestamp",
                    required=True,
                    description="When the invoice was issued (UTC).",
                ),
                Column(
                    "status",
                    "string",
                    allowed=("draft", "open", "paid", "void", "uncollectible"),
                    description="`draft`, `open`, `paid`, `void` or `uncollectible`.",
                ),
                Column(
                    "subtotal",
                    "money",
                    required=True,
                    description="Sum of the invoice's line amounts, in the invoice currency.",
                ),
                Column(
                    "tax", "money", minimum=0, description="Tax, in the invoice currency; >= 0."
                ),
                Column(
                    "total",
                    "money",
                    required=True,
                    description="subtotal + tax, in the invoice currency.",
                ),
                Column(
                    "updated_at",
                    "timestamp",
                    required=True,
                    description="When this version was written (UTC); the latest wins.",
                ),
            ),
            key=("invoice_id",),
            latest_wins_by="updated_at",
            depends_on=("accounts",),
            description="Invoices; a snapshot export (latest `updated_at` wins downstream).",
        ),
        Export(
            "invoice_lines",
            "billing",
            "invoice_lines",
            (
                Column("line_id", "string", required=True, description="The line's key."),
                Column(
                    "invoice_id",
                    "string",
                    required=True,
                    description="The invoice the line belongs to.",
                ),
                Column(
                    "line_type",
                    "string",
                    allowed=("subscription", "proration", "usage", "discount", "credit"),
                    description="`subscription`, `proration`, `usage`, `discount` or `credit`.",
                ),
                Column("description", "string", description="Free text."),
                Column("quantity", "decimal", description="Quantity; may be negative for credits."),
                Column(
                    "unit_amount",
                    "money",
                    description="Unit price in the invoice currency; may be empty for discounts.",
                ),
                Column(
                    "amount",
                    "money",
                    required=True,
                    description=(
                        "Line amount in the invoice currency; negative for credits and discounts."
                    ),
                ),
                Column(
                    "period_start",
                    "timestamp",
                    description="Start of the service period the line covers (UTC).",
                ),
                Column(
                    "period_end",
                    "timestamp",
                    description="End of the service period the line covers (UTC).",
                ),
                Column(
                    "source_event_id",
                    "string",
                    description=(
                        "For proration lines: the seat event that caused it; optional otherwise."
                    ),
                ),
            ),
            key=("line_id",),
            depends_on=("invoices",),
            description="Invoice lines. Key: line_id.",
        ),
        Export(
            "price_model_assignments",
            "billing",
            "price_model_assignments",
            (
                Column(
                    "assignment_id",
                    "string",
                    required=True,
                    description="The assignment's key.",
                ),
                Column(
                    "account_id",
                    "string",
                    required=True,
                    description="The account the assignment moves.",
                ),
                Column(
                    "price_model_id",
                    "string",
                    required=True,
                    description=(
                        "The price model the account is billed under from effective_from: a model"
                        " of the price book (dbt_project/seeds/price_book/price_models.csv)."
                    ),
                ),
                Column(
                    "effective_from",
                    "timestamp",
                    required=True,
                    description=(
                        "From when the account is billed under the model (UTC); may lie ahead (a"
                        " scheduled switch)."
                    ),
                ),
                Column(
                    "effective_to",
                    "timestamp",
                    optional=True,
                    description=(
                        "Until when (UTC, exclusive); empty while the assignment lasts (optional"
                        " column). When given, later than effective_from; may lie ahead."
                    ),
                ),
                Column(
                    "cohort",
                    "string",
                    allowed=("pilot", "control", "rollout"),
                    description=(
                        "Why the account was assigned: `pilot`, `control` (kept on a model to be"
                        " compared with a pilot), `rollout` or empty."
                    ),
                ),
                Column(
                    "updated_at",
                    "timestamp",
                    required=True,
                    description="When this version was written (UTC); the latest wins.",
                ),
            ),
            key=("assignment_id",),
            latest_wins_by="updated_at",
            depends_on=("accounts",),
            optional_export=True,
            description=(
                "Which price model an account is really billed under, from when: written by the"
                " billing system when a pilot or a rollout moves accounts (optional export; an"
                " account without an assignment is billed under the current model). A snapshot"
                " export (latest `updated_at` wins downstream). Key: assignment_id."
            ),
        ),
        Export(
            "support_tickets",
            "helpdesk",
            "support_tickets",
            (
                Column("ticket_id", "string", required=True, description="The ticket's key."),
                Column(
                    "account_id",
                    "string",
                    required=True,
                    description="The account that raised the ticket.",
                ),
                Column(
                    "created_at",
                    "timestamp",
                    required=True,
                    description="When the ticket was opened (UTC).",
                ),
                Column(
                    "category",
                    "string",
                    allowed=("billing", "pricing", "technical", "other"),
                    description="`billing`, `pricing`, `technical` or `other`.",
                ),
            ),
            key=("ticket_id",),
            optional_export=True,
            description="Support tickets (optional export). Key: ticket_id.",
        ),
        Export(
            "fx_rates",
            "treasury",
            "fx_rates",
            (
                Column(
                    "rate_date",
                    "date",
                    required=True,
                    description="The rate's date (key with currency).",
                ),
                Column(
                    "currency",
                    "string",
                    required=True,
                    pattern=CURRENCY,
                    description="ISO 4217 code.",
                ),
                Column(
                    "usd_per_unit",
                    "decimal",
                    required=True,
                    exclusive_minimum=0,
                    description="USD per one unit of the currency; > 0.",
                ),
            ),
            key=("rate_date", "currency"),
            optional_export=True,
            description="Daily FX rates to USD (optional export). Key: rate_date + currency.",
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
    "price_model_assignments",
    "support_tickets",
]

FILE_EXTENSIONS = ("csv", "csv.gz", "parquet", "jsonl", "jsonl.gz")


def raw_table_ddl(export: Export) -> str:
    """`create table if not exists` for the export's raw table: contract columns, then lineage."""
    columns = [f"{column.name} {column.raw_type}" for column in export.columns]
    columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS.items()]
    body = ",\n    ".join(columns)
    return f"create table if not exists {export.relation} (\n    {body}\n)"
