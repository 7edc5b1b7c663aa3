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

# ---- billing integrity (issue 3): from the dbt docs blocks in marts/billing/_billing__docs.md ----
DEFINITIONS |= {
    "invoice_accuracy": (
        "Usage-to-invoice accuracy: the share of invoice lines whose amount equals, to the cent, "
        "what the warehouse recomputes from the seat ledger and the price book. Counted: lines "
        "of open, paid and uncollectible invoices except discounts and credits, plus every "
        "expected line never invoiced (as a miss). Void invoices (re-issued) and drafts are "
        "left out. Above 97% is the bar."
    ),
    "invoice_amount_accuracy": (
        "The same share weighted by the amount at stake of each line (the larger of expected and "
        "invoiced, in USD at the issue date's rate)."
    ),
    "invoice_mismatches": (
        "Judged lines that differ from the rules, and expected lines no invoice carries "
        "(missing prorations, charges never invoiced), in the period and segments chosen."
    ),
    "invoice_subtotal_checks": (
        "Invoices whose subtotal differs from the sum of their lines, or whose total differs "
        "from subtotal + tax."
    ),
    "mismatch_reason": (
        "missing proration: a mid-period seat change has no proration line; stale quantity: "
        "another seat count than the ledger's at the period start; price mismatch: another unit "
        "price than the price book's for the period; amount mismatch: right quantity and price, "
        "wrong amount; unknown source event: the proration's event is not in the ledger; line "
        "without expectation: a line the rules do not produce; expected line never invoiced: a "
        "period's seat or fee charge is on no invoice."
    ),
}

# ---- revenue, retention and value shift (issue 4): from marts/revenue/_revenue__docs.md -------
DEFINITIONS |= {
    "mrr": (
        "MRR at the month's end: billable seats x the seat unit amount of the billing period in "
        "effect (+ platform fee), annual / 12, in USD at the month-end rate. Prorations and "
        "one-off lines are not MRR."
    ),
    "mrr_waterfall": (
        "Starting MRR + new + expansion + contraction + churn + reactivation + FX = ending MRR. "
        "Movements compare each account's MRR with the previous month's in its billing currency: "
        "new (first MRR > 0), reactivation (> 0 again after a month at 0), expansion (up), "
        "contraction (down, still > 0), churn (to 0). FX is the translation of foreign-currency "
        "MRR at the new month-end rate."
    ),
    "quick_ratio": (
        "(New + expansion + reactivation MRR) / (contraction + churned MRR). Above 1 the "
        "portfolio grows."
    ),
    "nrr": (
        "NRR (trailing 12 months): over the accounts with MRR > 0 twelve months ago, their MRR "
        "now / their MRR then. New accounts excluded; churned ones count as 0. Above 100% is "
        "healthy."
    ),
    "grr": "GRR: NRR with each account's MRR now capped at its MRR twelve months ago.",
    "cohort_nrr": (
        "A cohort is the accounts whose first MRR > 0 fell in the same month. Cohort NRR at k "
        "months = the cohort's MRR at month cohort + k / its MRR in the cohort month."
    ),
    "logo_retention": "Accounts of the cohort with MRR > 0 at cohort + k / the cohort's size.",
    "seat_utilization": (
        "Distinct human users with a usage event in the month / billable seats at month end. "
        "At or above 90% healthy; below 70% a red flag (paying for unused seats); above 100% "
        "unlicensed use."
    ),
    "share_below_red_flag": "Accounts below 70% seat utilization / accounts with seats.",
    "arpa": "ARPA: invoiced revenue (before tax) in the month / accounts billed in the month.",
    "arpu": "ARPU: invoiced revenue (before tax) in the month / paid seats at the month's end.",
    "automation_share": "Tasks done by agents / all tasks.",
    "usage_per_seat": "Tasks (or tokens) in the period / seat-months in the period.",
    "cost_to_serve": (
        "Input and output tokens of each LLM tier x the tier's cost per 1,000 tokens, from the "
        "price list the analyst maintains (seed model_costs)."
    ),
    "gross_margin": "(MRR - cost to serve) / MRR.",
    "power_user": "An account whose cost to serve is above its seat revenue (MRR).",
    "bill_shock_rate": (
        "Accounts with a bill shock in the month / accounts billed. Bill shock: the month's "
        "invoice total (void and draft ignored, USD at the issue date's rate) is more than 1.5x "
        "the average of the previous three billed months and at least $100 higher; a month with "
        "fewer than three billed months before it is not judged. Below 5% good, above 10% a red "
        "flag."
    ),
    "invoice_variance": (
        "Standard deviation of an account's monthly invoice totals over their mean (trailing 12 "
        "months), averaged over the accounts billed in the month."
    ),
    "support_load": "Billing- and pricing-category tickets per 100 billed accounts in the month.",
}

# ---- shadow billing (issue 5): from marts/pricing/_pricing__docs.md ----
DEFINITIONS |= {
    "shadow_invoice": (
        "What an account would have paid in a month under a price model of the price book, rated "
        "from that month's seats, users, tokens, tasks, resolutions, requests and credits, beside "
        "what it was invoiced (subtotals before tax, void and draft ignored, USD at the issue "
        "date's rate). The current per-seat model must reproduce the real recurring charges."
    ),
    "shadow_bill_shock": (
        "Bill shock under a model: the month's shadow total is more than 1.5x the average of the "
        "previous three billed months and at least $100 higher (fewer than three billed months "
        "before it: not judged). Shadow totals carry no tax. Below 5% good, above 10% a red flag."
    ),
    "winners_losers": (
        "Over all its months, an account wins under a model when it would pay more than 10% less "
        "than it was invoiced, and loses when it would pay more than 10% more."
    ),
    "price_model_guardrails": (
        "A proposal fails in a segment when its shadow bill-shock rate (shocked / billed "
        "account-months over the history) is above 5%, or its revenue change against the real "
        "invoices is outside -5% .. +15% (dbt vars guardrail_*)."
    ),
    "what_if": (
        "Edits re-rate every account-month of the history from the monthly quantities with the "
        "build's own rating SQL (marts.rpt_rating_sql), in memory; nothing is saved until you "
        "download the price book and commit it to dbt_project/seeds/price_book/."
    ),
}
