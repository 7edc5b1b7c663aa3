"""`generate()`: writes a synthetic vendor's exports and a manifest of what was injected."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.contract import EXPORTS
from orchestration.lib.generator.assigned_billing import (
    build_assigned_invoices,
    tokens_by_account_month,
)
from orchestration.lib.generator.assignments import (
    CONTROL_PRICE_MODEL,
    PILOT_PRICE_MODEL,
    PILOT_SEGMENT,
    Assignment,
    build_assignments,
    switch_month,
)
from orchestration.lib.generator.bad_rows import build_bad_rows
from orchestration.lib.generator.billing import Invoice, build_invoices
from orchestration.lib.generator.calendar import add_months, day, money, month_start, ts
from orchestration.lib.generator.entities import (
    AUTOMATING_SEGMENT,
    TAX_RATES,
    Account,
    PlanPrice,
    Subscription,
    build_accounts,
    build_plans,
)
from orchestration.lib.generator.ledger import build_subscription
from orchestration.lib.generator.output import ExportFile, write_export_file
from orchestration.lib.generator.usage import (
    generate_usage_sql,
    plan_account_days,
    write_usage_files,
)

FORMATS = ("csv", "parquet", "jsonl")
FX_START = {"EUR": 1.08, "GBP": 1.27}


def check_arguments(
    *, accounts: int, months: int, start: str, fmt: str, usage_per_seat_day: float
) -> None:
    """Raise ValueError, saying which and why, for arguments no company can be generated from."""
    if fmt not in FORMATS:
        raise ValueError(f"the format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if accounts < 2:
        raise ValueError(f"a company needs at least 2 accounts, not {accounts}")
    if months < 2:
        raise ValueError(f"a company needs at least 2 months of history, not {months}")
    if usage_per_seat_day < 0:
        raise ValueError(f"the usage per seat and day cannot be negative ({usage_per_seat_day})")
    parts = start.split("-")
    if (
        len(parts) != 2
        or not all(part.isdigit() for part in parts)
        or len(parts[0]) != 4
        or not 1 <= int(parts[1]) <= 12
    ):
        raise ValueError(f"the first month must be written YYYY-MM (2024-11), not {start!r}")


def generate(
    out_dir: Path,
    *,
    accounts: int = 300,
    months: int = 24,
    start: str = "2024-11",  # with 24 months: through October 2026
    seed: int = 7,
    fmt: str = "csv",
    usage_per_seat_day: float = 1.0,
    bad_rows: bool = True,
    pilot: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Writes the exports into out_dir and returns a summary dict (also out_dir/_manifest.json).

    `pilot`: also write the optional `price_model_assignments` export, the pilot of a proposal
    and its control cohort (`assignments.py`); off, or when the period is too short for a pilot
    with its history, the folder holds no such file.

    Files of the same names are overwritten; other files in out_dir are left alone. `progress`,
    when given, hears what runs as each stage starts (`seatshift generate` prints it).
    """
    say = progress or (lambda text: None)
    check_arguments(
        accounts=accounts,
        months=months,
        start=start,
        fmt=fmt,
        usage_per_seat_day=usage_per_seat_day,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start_at = month_start(start)
    end_at = month_start(start, months)

    say(f"planning {accounts:,} accounts, their subscriptions and invoices over {months} months")
    plans = build_plans(start_at, months)
    account_list, anchors = build_accounts(accounts, start_at, months, seed)
    subscriptions = [
        build_subscription(account, anchor, plans, start_at, end_at, seed)
        for account, anchor in zip(account_list, anchors, strict=True)
    ]
    assignments = build_assignments(subscriptions, start_at, months, seed) if pilot else []
    # From its switch a pilot account is billed under the proposal (assigned_billing.py), not per
    # seat: its seat periods starting at or after the switch get no seat invoice.
    by_account = {subscription.account.account_id: subscription for subscription in subscriptions}
    seat_billing_ends = {
        by_account[assignment.account_id].subscription_id: assignment.effective_from
        for assignment in assignments
        if assignment.price_model_id != CONTROL_PRICE_MODEL
    }
    invoices, billing_errors = build_invoices(subscriptions, plans, end_at, seed, seat_billing_ends)

    files: dict[str, int] = {}
    injected: list[dict] = []
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set timezone = 'UTC'")
        connection.execute("set preserve_insertion_order = true")
        connection.execute("set enable_progress_bar = false")
        account_days = plan_account_days(
            subscriptions, start_at, end_at, months, usage_per_seat_day, seed
        )
        say(f"generating usage events ({len(account_days):,} account-days of activity)")
        generate_usage_sql(connection, account_days, seed)
        (human_events,) = connection.execute(
            "select count(*) from usage_generated where actor_type = 'human'"
        ).fetchone()
        if not human_events:
            # nothing is written yet (the folder aside): the command says so in one line
            raise ValueError(
                f"at {usage_per_seat_day:g} usage events per seat and day the company makes no "
                "event by a person (seat utilization reads them, and the bad rows copy one): "
                "raise --usage-per-seat-day"
            )
        files |= write_usage_files(connection, out_dir, start, months, fmt, progress=say)
        if seat_billing_ends:
            piloted = sorted(
                {a.account_id for a in assignments if a.price_model_id != CONTROL_PRICE_MODEL}
            )
            invoices += build_assigned_invoices(
                assignments,
                subscriptions,
                plans,
                tokens_by_account_month(connection, piloted),
                end_at,
                seed,
                CONTROL_PRICE_MODEL,
            )
        usage_sample = _usage_sample(connection)
        export_files = _export_files(
            account_list, plans, subscriptions, invoices, start_at, end_at, seed
        )
        if assignments:  # a period too short for a pilot writes none: the export is optional
            assignment_rows = ExportFile(
                "price_model_assignments", "price_model_assignments__billing"
            )
            assignment_rows.rows = [assignment.row() for assignment in assignments]
            export_files.append(assignment_rows)
        if bad_rows:
            last_month = add_months(start_at, months - 1).strftime("%Y-%m")
            backfill = ExportFile("usage_events", f"usage_events__{last_month}-backfill")
            export_files.append(backfill)
            by_export = build_bad_rows(subscriptions, invoices, usage_sample)
            for export_file in export_files:
                if export_file.stem.endswith(("__updates", "__redelivery")):
                    continue
                export_file.insert_bad_rows(by_export.get(export_file.export, []))
        say(f"writing {len(export_files)} files of the other exports")
        for export_file in export_files:
            name, rows, bad = write_export_file(connection, out_dir, export_file, fmt)
            files[name] = rows
            injected += bad
        connection.execute("create table story_accounts (account_id varchar, segment varchar)")
        connection.executemany(
            "insert into story_accounts values (?, ?)",
            [(account.account_id, account.segment) for account in account_list],
        )
        distinct_usage = connection.execute("select count(*) from usage_generated").fetchall()[0][0]
        usage_stats = _usage_story(connection)
    finally:
        connection.close()

    row_counts: dict[str, int] = defaultdict(int)
    for name, rows in files.items():
        row_counts[name.split("__", 1)[0]] += rows
    manifest = {
        "parameters": {
            "accounts": accounts,
            "months": months,
            "start": start,
            "seed": seed,
            "format": fmt,
            "usage_per_seat_day": usage_per_seat_day,
            "bad_rows": bad_rows,
            "pilot": pilot,
        },
        "period": {"start": ts(start_at), "end": ts(end_at)},
        "row_counts": {export: row_counts[export] for export in EXPORTS},
        "files": dict(sorted(files.items())),
        "usage_events_distinct": distinct_usage,
        "invoices_distinct": len(invoices),
        "tax_rates": {country: f"{rate:f}" for country, rate in sorted(TAX_RATES.items())},
        "billing_errors": sorted(billing_errors, key=lambda error: error["invoice_id"]),
        "bad_rows": sorted(injected, key=lambda row: (row["file"], row["row_number"])),
        "story": {
            "automating_segment": AUTOMATING_SEGMENT,
            "power_user_accounts": [a.account_id for a in account_list if a.power_user],
            "low_utilization_accounts": [a.account_id for a in account_list if a.low_utilization],
            "agent_task_share_by_segment_and_year": usage_stats,
            "pilot": _pilot_story(assignments, start_at, months) if pilot else None,
        },
    }
    (out_dir / "_manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return manifest


def _pilot_story(assignments: list[Assignment], start: datetime, months: int) -> dict:
    by_cohort: dict[str, list[str]] = defaultdict(list)
    for assignment in assignments:
        by_cohort[assignment.cohort].append(assignment.account_id)
    return {
        "segment": PILOT_SEGMENT,
        "price_model_id": PILOT_PRICE_MODEL,
        "control_price_model_id": CONTROL_PRICE_MODEL,
        "switch_month": switch_month(start, months).strftime("%Y-%m"),
        "pilot_accounts": by_cohort["pilot"],
        "control_accounts": by_cohort["control"],
    }


def _usage_sample(connection: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """A real human usage event as text: the base that bad usage rows are built from."""
    names = [
        "event_id",
        "account_id",
        "actor_type",
        "user_id",
        "agent_id",
        "occurred_at",
        "feature",
        "model",
        "input_tokens",
        "output_tokens",
        "tasks",
        "outcome",
    ]
    row = connection.execute(
        f"""
        select {", ".join(names[:5])}, strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ'),
            {", ".join(names[6:])}
        from usage_generated where actor_type = 'human'
        order by occurred_at desc, event_id limit 1
        """
    ).fetchall()[0]
    return {
        name: None if value is None else str(value) for name, value in zip(names, row, strict=True)
    }


def _usage_story(connection: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
    rows = connection.execute(
        """
        select accounts.segment, year(usage.occurred_at)::varchar as year,
            round(sum(case when usage.actor_type = 'agent' then usage.tasks else 0 end)
                / sum(usage.tasks), 3) as share
        from usage_generated as usage
        join story_accounts as accounts on usage.account_id = accounts.account_id
        group by all order by all
        """
    ).fetchall()
    story: dict[str, dict[str, float]] = defaultdict(dict)
    for segment, year, share in rows:
        story[segment][year] = float(share)
    return dict(story)


def _export_files(
    accounts: list[Account],
    plans: list[PlanPrice],
    subscriptions: list[Subscription],
    invoices: list[Invoice],
    start: datetime,
    end: datetime,
    seed: int,
) -> list[ExportFile]:
    rng = random.Random(f"{seed}:files")
    account_rows = ExportFile("accounts", "accounts__crm")
    account_updates = ExportFile("accounts", "accounts__updates")
    for account in accounts:
        row = {
            "account_id": account.account_id,
            "account_name": account.account_name,
            "segment": account.segment,
            "country": account.country,
            "currency": account.currency,
            "created_at": ts(account.created_at),
            "updated_at": ts(account.updated_at),
        }
        account_rows.rows.append(row)
        if account.renamed_to:
            name, renamed_at = account.renamed_to
            account_updates.rows.append(row | {"account_name": name, "updated_at": ts(renamed_at)})

    plan_rows = ExportFile("plans", "plans__price_book")
    for plan in plans:
        plan_rows.rows.append(
            {
                "plan_id": plan.plan_id,
                "plan_name": plan.plan_name,
                "currency": plan.currency,
                "billing_interval": plan.billing_interval,
                "seat_unit_amount": money(plan.seat_unit_amount),
                "platform_fee_amount": money(plan.platform_fee_amount),
                "effective_from": day(plan.effective_from),
            }
        )

    subscription_rows = ExportFile("subscriptions", "subscriptions__billing")
    subscription_updates = ExportFile("subscriptions", "subscriptions__updates")
    seat_rows = ExportFile("seat_events", "seat_events__ledger")
    seat_redelivery = ExportFile("seat_events", "seat_events__redelivery")
    all_events = []
    for subscription in subscriptions:
        row = {
            "subscription_id": subscription.subscription_id,
            "account_id": subscription.account.account_id,
            "plan_id": subscription.plan_id,
            "status": "active",
            "started_at": ts(subscription.started_at),
            "canceled_at": None,
            "updated_at": ts(subscription.started_at),
        }
        subscription_rows.rows.append(row)
        if subscription.canceled_at is not None:
            canceled = ts(subscription.canceled_at)
            subscription_updates.rows.append(
                row | {"status": "canceled", "canceled_at": canceled, "updated_at": canceled}
            )
        elif subscription.past_due_since is not None:
            subscription_updates.rows.append(
                row | {"status": "past_due", "updated_at": ts(subscription.past_due_since)}
            )
        all_events += subscription.events
    all_events.sort(key=lambda event: (event.recorded_at, event.event_id))
    for event in all_events:
        row = {
            "event_id": event.event_id,
            "account_id": event.account_id,
            "subscription_id": event.subscription_id,
            "event_type": event.event_type,
            "quantity": str(event.quantity),
            "seat_role": event.seat_role,
            "user_id": event.user_id,
            "effective_at": ts(event.effective_at),
            "recorded_at": ts(event.recorded_at),
            "corrects_event_id": event.corrects_event_id,
            "source": event.source,
        }
        seat_rows.rows.append(row)
        if rng.random() < 0.03:
            seat_redelivery.rows.append(dict(row))  # the same event delivered again

    invoice_rows = ExportFile("invoices", "invoices__billing")
    invoice_updates = ExportFile("invoices", "invoices__updates")
    line_rows = ExportFile("invoice_lines", "invoice_lines__billing")
    for invoice in sorted(invoices, key=lambda i: (i.issued_at, i.invoice_id)):
        account = invoice.subscription.account
        base = {
            "invoice_id": invoice.invoice_id,
            "account_id": account.account_id,
            "subscription_id": invoice.subscription.subscription_id,
            "currency": account.currency,
            "period_start": ts(invoice.period_start),
            "period_end": ts(invoice.period_end),
            "issued_at": ts(invoice.issued_at),
            "subtotal": money(invoice.subtotal),
            "tax": money(invoice.tax),
            "total": money(invoice.total),
        }
        for number, (status, updated_at) in enumerate(invoice.versions):
            target = invoice_rows if number == 0 else invoice_updates
            target.rows.append(base | {"status": status, "updated_at": ts(updated_at)})
        for line in invoice.lines:
            line_rows.rows.append(
                {
                    "line_id": line.line_id,
                    "invoice_id": invoice.invoice_id,
                    "line_type": line.line_type,
                    "description": line.description,
                    "quantity": None if line.quantity is None else str(line.quantity),
                    "unit_amount": money(line.unit_amount),
                    "amount": money(line.amount),
                    "period_start": ts(line.period_start),
                    "period_end": ts(line.period_end),
                    "source_event_id": line.source_event_id,
                }
            )
    invoice_updates.rows.sort(key=lambda row: (row["updated_at"], row["invoice_id"]))

    tickets = ExportFile("support_tickets", "support_tickets__helpdesk")
    tickets.rows = _support_tickets(subscriptions, invoices, start, end, seed)
    fx = ExportFile("fx_rates", "fx_rates__treasury")
    fx.rows = _fx_rates(start, end, seed)
    files = [
        account_rows,
        account_updates,
        plan_rows,
        subscription_rows,
        subscription_updates,
        seat_rows,
        seat_redelivery,
        invoice_rows,
        invoice_updates,
        line_rows,
        tickets,
        fx,
    ]
    return [
        export_file
        for export_file in files
        if export_file.rows or "__updates" not in export_file.stem
    ]


def _support_tickets(
    subscriptions: list[Subscription],
    invoices: list[Invoice],
    start: datetime,
    end: datetime,
    seed: int,
) -> list[dict]:
    """Steady technical tickets, plus billing and pricing tickets right after a bill jumps."""
    rng = random.Random(f"{seed}:tickets")
    raw: list[tuple[datetime, str, str]] = []
    for subscription in subscriptions:
        account = subscription.account
        month = month_start(subscription.started_at.strftime("%Y-%m"))
        last = subscription.canceled_at or end
        seats = sum(event.seats_delta for event in subscription.events if not event.voided)
        while month < last:
            expected = 0.15 + max(seats, 1) / 30
            for _ in range(_poisson(rng, expected)):
                moment = month + timedelta(seconds=rng.randint(0, 27 * 86400))
                if moment < min(last, end):
                    raw.append(
                        (moment, account.account_id, rng.choice(("technical",) * 3 + ("other",)))
                    )
            if rng.random() < 0.05:
                moment = month + timedelta(seconds=rng.randint(0, 27 * 86400))
                if moment < min(last, end):
                    raw.append((moment, account.account_id, rng.choice(("billing", "pricing"))))
            month = add_months(month, 1)
    billed: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        if invoice.status not in ("void", "draft"):
            billed[invoice.subscription.account.account_id].append(invoice)
    # An account billed under an assigned model (monthly invoices, period_index -1) draws its
    # tickets from a stream of its own, so a pilot leaves every other account's tickets as they
    # were without it.
    assigned = {
        invoice.subscription.account.account_id for invoice in invoices if invoice.period_index < 0
    }
    for account_id, history in billed.items():
        draw = random.Random(f"{seed}:tickets:{account_id}") if account_id in assigned else rng
        history.sort(key=lambda invoice: invoice.issued_at)
        for previous, current in itertools.pairwise(history):
            if current.total > previous.total * 14 / 10 and current.total - previous.total > 50:
                for _ in range(draw.randint(1, 3)):
                    moment = current.issued_at + timedelta(seconds=draw.randint(3600, 10 * 86400))
                    if moment < end:
                        raw.append(
                            (moment, account_id, draw.choice(("billing", "billing", "pricing")))
                        )
    raw.sort()
    return [
        {
            "ticket_id": f"tk_{number:06d}",
            "account_id": account_id,
            "created_at": ts(moment),
            "category": category,
        }
        for number, (moment, account_id, category) in enumerate(raw, start=1)
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _fx_rates(start: datetime, end: datetime, seed: int) -> list[dict]:
    """Daily USD per EUR and GBP over the whole period: a small mean-reverting random walk."""
    rng = random.Random(f"{seed}:fx")
    rows = []
    for currency, anchor in FX_START.items():
        rate, moment = anchor, start
        while moment < end:
            rows.append(
                {
                    "rate_date": day(moment.date()),
                    "currency": currency,
                    "usd_per_unit": f"{rate:.6f}",
                }
            )
            rate = rate * math.exp(rng.gauss(0, 0.004)) + (anchor - rate) * 0.02
            moment += timedelta(days=1)
    rows.sort(key=lambda row: (row["rate_date"], row["currency"]))
    return rows
