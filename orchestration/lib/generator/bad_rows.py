"""Bad rows: a few rows of every kind the contract quarantines, named by the loader's rule names.

Every bad row has its own key and is never what an invoice depends on (extra accounts, plans,
subscriptions and invoices nobody references; seat events the loader must reject), so the billing
truth is the same whether the loader quarantines them or not... as long as it quarantines them.
"""

from __future__ import annotations

from datetime import timedelta

from orchestration.lib.generator.calendar import ts
from orchestration.lib.generator.entities import Subscription

UNKNOWN_ACCOUNT = "acc_99999"


def build_bad_rows(
    subscriptions: list[Subscription], invoices: list, usage_sample: dict[str, str | None]
) -> dict[str, list[tuple[str, dict[str, str | None]]]]:
    """Per export, (rule, row) pairs; each row breaks exactly one rule."""
    first, second = subscriptions[0], subscriptions[1]
    account = first.account
    start = first.started_at + timedelta(days=3, hours=1)

    def account_row(number: int, **changes) -> dict:
        row = {
            "account_id": f"acc_q{number:04d}",
            "account_name": f"Imported Lead {number}",
            "segment": "smb",
            "country": "US",
            "currency": "USD",
            "created_at": ts(start),
            "updated_at": ts(start),
        }
        return row | changes

    def plan_row(number: int, **changes) -> dict:
        row = {
            "plan_id": f"legacy_{number:02d}",
            "plan_name": f"Legacy plan {number}",
            "currency": "USD",
            "billing_interval": "month",
            "seat_unit_amount": "49.00",
            "platform_fee_amount": None,
            "effective_from": f"2019-0{number}-01",
        }
        return row | changes

    def subscription_row(number: int, **changes) -> dict:
        row = {
            "subscription_id": f"sub_q{number:04d}",
            "account_id": account.account_id,
            "plan_id": first.plan_id,
            "status": "active",
            "started_at": ts(start),
            "canceled_at": None,
            "updated_at": ts(start),
        }
        return row | changes

    def seat_row(number: int, **changes) -> dict:
        moment = ts(start + timedelta(hours=number))
        row = {
            "event_id": f"se_q_{number:04d}",
            "account_id": account.account_id,
            "subscription_id": first.subscription_id,
            "event_type": "seat_added",
            "quantity": "1",
            "seat_role": "member",
            "user_id": None,
            "effective_at": moment,
            "recorded_at": moment,
            "corrects_event_id": None,
            "source": "app",
        }
        return row | changes

    def usage_row(number: int, **changes) -> dict:
        return usage_sample | {"event_id": f"ue_q_{number:04d}"} | changes

    invoice = next(i for i in invoices if i.status == "paid")
    issued = ts(invoice.period_start)

    def invoice_row(number: int, **changes) -> dict:
        row = {
            "invoice_id": f"inv_q_{number:04d}",
            "account_id": invoice.subscription.account.account_id,
            "subscription_id": invoice.subscription.subscription_id,
            "currency": invoice.subscription.account.currency,
            "period_start": issued,
            "period_end": ts(invoice.period_end),
            "issued_at": issued,
            "status": "paid",
            "subtotal": "0.00",
            "tax": "0.00",
            "total": "0.00",
            "updated_at": issued,
        }
        return row | changes

    def line_row(number: int, **changes) -> dict:
        row = {
            "line_id": f"line_q_{number:04d}",
            "invoice_id": invoice.invoice_id,
            "line_type": "credit",
            "description": "Goodwill",
            "quantity": "1",
            "unit_amount": "0.00",
            "amount": "0.00",
            "period_start": issued,
            "period_end": ts(invoice.period_end),
            "source_event_id": None,
        }
        return row | changes

    def ticket_row(number: int, **changes) -> dict:
        row = {
            "ticket_id": f"tk_q_{number:04d}",
            "account_id": account.account_id,
            "created_at": ts(start),
            "category": "technical",
        }
        return row | changes

    other_currency = "EUR" if invoice.subscription.account.currency != "EUR" else "USD"
    corrections = [e for s in subscriptions for e in s.events if e.event_type == "correction"]
    seat_rows = [
        ("unknown_subscription", seat_row(1, subscription_id="sub_99999")),
        ("subscription_of_other_account", seat_row(2, subscription_id=second.subscription_id)),
        (
            "corrected_event_unknown",
            seat_row(3, event_type="correction", corrects_event_id="se_missing_0001"),
        ),
        ("seats_below_zero", seat_row(4, event_type="seat_removed", quantity="100000")),
        ("minimum:quantity", seat_row(5, quantity="0")),
        ("allowed_values:event_type", seat_row(6, event_type="seat_upgraded")),
        ("type:quantity", seat_row(7, quantity="two")),
        (
            "timestamp_without_offset:effective_at",
            seat_row(8, effective_at=ts(start).removesuffix("Z")),
        ),
        ("required:effective_at", seat_row(9, effective_at=None)),
        # A wrong clock: a date nobody's ledger holds (the export contract, "Plausible times").
        ("implausible_time", seat_row(11, effective_at="1970-01-01T00:00:00Z")),
    ]
    if corrections:
        target = corrections[0]
        moment = ts(target.effective_at + timedelta(minutes=30))
        seat_rows.append(
            (
                "correction_of_correction",
                {
                    **seat_row(10),
                    "account_id": target.account_id,
                    "subscription_id": target.subscription_id,
                    "event_type": "correction",
                    "quantity": str(target.quantity),
                    "effective_at": moment,
                    "recorded_at": moment,
                    "corrects_event_id": target.event_id,
                    "source": "admin",
                },
            )
        )
    return {
        "accounts": [
            ("required:account_name", account_row(1, account_name=None)),
            ("allowed_values:segment", account_row(2, segment="startup")),
            ("pattern:country", account_row(3, country="Germany")),
            ("pattern:currency", account_row(4, currency="euro")),
            (
                "timestamp_without_offset:created_at",
                account_row(5, created_at=ts(start).replace("T", " ").removesuffix("Z")),
            ),
            ("type:created_at", account_row(6, created_at="last tuesday")),
        ],
        "plans": [
            ("too_many_decimals:seat_unit_amount", plan_row(1, seat_unit_amount="49.99999")),
            ("minimum:platform_fee_amount", plan_row(2, platform_fee_amount="-10.00")),
            ("allowed_values:billing_interval", plan_row(3, billing_interval="week")),
            ("required:effective_from", plan_row(4, effective_from=None)),
            ("type:seat_unit_amount", plan_row(5, seat_unit_amount="fifty")),
        ],
        "subscriptions": [
            ("unknown_account", subscription_row(1, account_id=UNKNOWN_ACCOUNT)),
            ("allowed_values:status", subscription_row(2, status="paused")),
            ("required:started_at", subscription_row(3, started_at=None)),
            (
                "timestamp_without_offset:started_at",
                subscription_row(4, started_at=ts(start).removesuffix("Z")),
            ),
        ],
        "seat_events": seat_rows,
        "usage_events": [
            ("user_id_required_for_human", usage_row(1, user_id=None)),
            (
                "agent_id_required_for_agent",
                usage_row(2, actor_type="agent", user_id=None, agent_id=None),
            ),
            ("unknown_account", usage_row(3, account_id=UNKNOWN_ACCOUNT)),
            ("type:input_tokens", usage_row(4, input_tokens="12k")),
            ("minimum:output_tokens", usage_row(5, output_tokens="-5")),
            (
                "timestamp_without_offset:occurred_at",
                usage_row(6, occurred_at=usage_sample["occurred_at"].removesuffix("Z")),
            ),
            ("allowed_values:actor_type", usage_row(7, actor_type="bot")),
            ("allowed_values:outcome", usage_row(8, outcome="done")),
            ("required:model", usage_row(9, model=None)),
            # The wrong clock: loaded, it moved the data's as-of time to 2099.
            ("implausible_time", usage_row(10, occurred_at="2099-02-10T10:00:00Z")),
        ],
        "invoices": [
            ("currency_differs_from_account", invoice_row(1, currency=other_currency)),
            ("period_end_not_after_start", invoice_row(2, period_end=issued)),
            ("unknown_account", invoice_row(3, account_id=UNKNOWN_ACCOUNT)),
            ("allowed_values:status", invoice_row(4, status="pending")),
            ("minimum:tax", invoice_row(5, tax="-1.00", total="-1.00")),
            ("type:subtotal", invoice_row(6, subtotal="n/a")),
            ("required:total", invoice_row(7, total=None)),
        ],
        "invoice_lines": [
            ("unknown_invoice", line_row(1, invoice_id="inv_99999_999")),
            ("allowed_values:line_type", line_row(2, line_type="fee")),
            ("too_many_decimals:amount", line_row(3, amount="0.00004")),
            ("required:amount", line_row(4, amount=None)),
        ],
        "support_tickets": [
            ("allowed_values:category", ticket_row(1, category="complaint")),
            ("required:created_at", ticket_row(2, created_at=None)),
            (
                "timestamp_without_offset:created_at",
                ticket_row(3, created_at=ts(start).removesuffix("Z")),
            ),
        ],
        "fx_rates": [
            (
                "minimum:usd_per_unit",
                {"rate_date": "2019-12-31", "currency": "CHF", "usd_per_unit": "0"},
            ),
            (
                "type:usd_per_unit",
                {"rate_date": "2019-12-30", "currency": "CHF", "usd_per_unit": "n/a"},
            ),
            (
                "implausible_time",
                {"rate_date": "1999-12-31", "currency": "CHF", "usd_per_unit": "1.10"},
            ),
        ],
    }
