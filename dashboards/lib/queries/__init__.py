"""Every query of the dashboard, and its caching, one module per subject. Pages hold no SQL.

Pages and lib modules call `queries.<function>`; this package re-exports each subject's public
functions so they need not know which module a query lives in. `_core` holds what every subject
shares: the warehouse's identity, the short read-only read and its cache.
"""

from __future__ import annotations

from . import _core, decision, definitions, projection, shadow_billing
from ._core import CACHE_TTL, QueryFailed, Warehouse, keep_attached, warehouse
from .billing_integrity import (
    billing_accounts,
    billing_accuracy_totals,
    billing_accuracy_trend,
    billing_invoice_account,
    billing_invoice_lines,
    billing_invoices,
    billing_line_events,
    billing_mismatches,
    billing_subtotal_mismatches,
)
from .data_health import (
    EXAMPLES_PER_RULE,
    expectation_results,
    expectation_totals,
    load_report,
    load_totals,
    quarantine_by_rule,
    quarantine_examples,
    quarantined_rows_csv,
)
from .decision import (
    TRIGGER_VERDICT_COLUMNS,
    account_names,
    choice_accounts,
    customer_choice_by_segment,
    migration_triggers,
    pilot_accounts,
    price_model_names,
    trigger_threshold_names,
    trigger_what_if,
)
from .definitions import (
    definitions_by_metric,
    metric_definitions,
    settings_by_name,
    settings_in_force,
)
from .filters import months, segments
from .freshness import (
    RefreshAttempt,
    data_as_of,
    last_refresh_attempt,
    latest_refresh_id,
    refresh_history,
)
from .migration import migration_plan, migration_plan_impact, migration_waves
from .paper_invoice import (
    paper_invoice_account,
    paper_invoice_actual_lines,
    paper_invoice_month,
    paper_invoice_plan,
    paper_invoice_pool_alerts,
    paper_invoice_shadow_lines,
    paper_invoice_totals,
)
from .pilot import (
    pilot_match_quality,
    pilot_prediction,
    pilot_readout,
    pilot_readout_monthly,
    pilot_rollback_triggers,
)
from .projection import (
    projection_assumption_names,
    projection_backtest,
    projection_margin_and_cash,
    projection_new_business,
    projection_rates,
    projection_settings,
    projection_totals,
    re_projection,
    revenue_projection,
)
from .revenue import cohort_retention, nrr_monthly, revenue_portfolio
from .shadow_billing import (
    full_price_book,
    prepaid_pools,
    price_book,
    price_model_guardrails,
    price_models,
    shadow_account_deltas,
    shadow_bill_shock_monthly,
    shadow_revenue_monthly,
    spend_caps,
    what_if,
)
from .value_shift import (
    USAGE_MIX_DIMENSIONS,
    account_value,
    automation_by_segment,
    bill_shock_monthly,
    model_cost_curve,
    seats_and_usage_per_seat,
    usage_mix_monthly,
)


def clear_cache() -> None:
    """Forget every cached read, re-judged trigger, re-rating and re-projection workspace: the
    caches are keyed on the published file's identity, so this is for tests and operators only."""
    for cached in (
        _core._cached_read,
        decision._trigger_workspace,
        shadow_billing._rating_workspace,
        projection._projection_workspace,
        projection._cached_re_projection,
        definitions._definitions_by_metric,
        definitions._settings_by_name,
    ):
        cached.clear()
    _core._detach()  # the next read attaches the file again, as the first after a publish does


__all__ = [
    "CACHE_TTL",
    "EXAMPLES_PER_RULE",
    "TRIGGER_VERDICT_COLUMNS",
    "USAGE_MIX_DIMENSIONS",
    "QueryFailed",
    "RefreshAttempt",
    "Warehouse",
    "account_names",
    "account_value",
    "automation_by_segment",
    "bill_shock_monthly",
    "billing_accounts",
    "billing_accuracy_totals",
    "billing_accuracy_trend",
    "billing_invoice_account",
    "billing_invoice_lines",
    "billing_invoices",
    "billing_line_events",
    "billing_mismatches",
    "billing_subtotal_mismatches",
    "choice_accounts",
    "clear_cache",
    "cohort_retention",
    "customer_choice_by_segment",
    "data_as_of",
    "definitions_by_metric",
    "expectation_results",
    "expectation_totals",
    "full_price_book",
    "keep_attached",
    "last_refresh_attempt",
    "latest_refresh_id",
    "load_report",
    "load_totals",
    "metric_definitions",
    "migration_plan",
    "migration_plan_impact",
    "migration_triggers",
    "migration_waves",
    "model_cost_curve",
    "months",
    "nrr_monthly",
    "paper_invoice_account",
    "paper_invoice_actual_lines",
    "paper_invoice_month",
    "paper_invoice_plan",
    "paper_invoice_pool_alerts",
    "paper_invoice_shadow_lines",
    "paper_invoice_totals",
    "pilot_accounts",
    "pilot_match_quality",
    "pilot_prediction",
    "pilot_readout",
    "pilot_readout_monthly",
    "pilot_rollback_triggers",
    "prepaid_pools",
    "price_book",
    "price_model_guardrails",
    "price_model_names",
    "price_models",
    "projection_assumption_names",
    "projection_backtest",
    "projection_margin_and_cash",
    "projection_new_business",
    "projection_rates",
    "projection_settings",
    "projection_totals",
    "quarantine_by_rule",
    "quarantine_examples",
    "quarantined_rows_csv",
    "re_projection",
    "refresh_history",
    "revenue_portfolio",
    "revenue_projection",
    "seats_and_usage_per_seat",
    "segments",
    "settings_by_name",
    "settings_in_force",
    "shadow_account_deltas",
    "shadow_bill_shock_monthly",
    "shadow_revenue_monthly",
    "spend_caps",
    "trigger_threshold_names",
    "trigger_what_if",
    "usage_mix_monthly",
    "warehouse",
    "what_if",
]
