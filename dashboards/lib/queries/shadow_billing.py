"""Shadow billing: the proposals, their guardrails and shadow invoices, the price
book, and the what-if re-rating of an edited price book.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from orchestration.lib import rating
from orchestration.lib.rating import COMPONENT_COLUMNS, TIER_COLUMNS

from ._core import QueryFailed, _period_clause, _read, warehouse


def price_models() -> pd.DataFrame:
    return _read(
        "the price models",
        """
        select price_model_id, name, description, is_current_model, components, cap_amount,
            cap_policy
        from marts.dim_price_models
        order by is_current_model desc, price_model_id
        """,
    )


def price_model_guardrails(models: tuple[str, ...]) -> pd.DataFrame:
    """Every model x segment (and `all`), with the current per-seat model for reference."""
    return _read(
        "the price models' guardrails",
        """
        select guardrails.*, models.name
        from marts.fct_price_model_guardrails as guardrails
        inner join marts.dim_price_models as models
            on guardrails.price_model_id = models.price_model_id
        where list_contains(?, guardrails.price_model_id) or models.is_current_model
        order by models.is_current_model desc, guardrails.price_model_id, guardrails.segment
        """,
        (list(models),),
    )


def shadow_revenue_monthly(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Actual and shadow revenue per month and model over the chosen segments."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the shadow revenue",
        f"""
        select month, price_model_id, sum(actual_usd) as actual_usd,
            sum(shadow_usd) as shadow_usd, sum(cost_to_serve_usd) as cost_to_serve_usd
        from marts.fct_shadow_invoice
        where list_contains(?, price_model_id) and (len(?) = 0 or list_contains(?, segment))
            and {period_sql}
        group by month, price_model_id
        order by month, price_model_id
        """,
        (list(models), list(segments), list(segments), *period_params),
    )


def shadow_bill_shock_monthly(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Bill-shock rate per month of the real invoices (`current`) and of the chosen models."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the shadow bill-shock rates",
        f"""
        select month, price_model_id, sum(billed_accounts) as billed_accounts,
            sum(shocked_accounts) as shocked_accounts,
            -- a month nobody could be judged in is a gap, not 0% (as in the mart)
            case when sum(judged_accounts) > 0
                then sum(shocked_accounts) / nullif(sum(billed_accounts), 0)
            end as bill_shock_rate
        from marts.fct_bill_shock_monthly
        where (price_model_id = 'current' or list_contains(?, price_model_id))
            and segment != 'all' and (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        group by month, price_model_id
        order by month, price_model_id
        """,
        (list(models), list(segments), list(segments), *period_params),
    )


def shadow_account_deltas(
    models: tuple[str, ...], segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """Winners and losers per model over the chosen segments and period
    (rating.account_deltas_sql): accounts per bin of their change, and the accounts that moved
    most, from the running totals (two rows per account and model, whatever the period)."""
    first, last = period if period else (None, None)
    return _read(
        "the accounts' shadow invoices",
        rating.account_deltas_sql(
            rating.running_account_totals_sql(
                "marts.fct_shadow_account_running_totals",
                "list_contains(?, price_model_id) and (len(?) = 0 or list_contains(?, segment))",
            )
        ),
        (first, last, list(models), list(segments), list(segments)),
    )


def spend_caps(models: tuple[str, ...]) -> pd.DataFrame:
    """What each spend cap of the chosen models did, per segment (and `all`) and capped line."""
    return _read(
        "the spend caps",
        """
        select caps.*, models.name
        from marts.fct_shadow_spend_caps as caps
        inner join marts.dim_price_models as models
            on caps.price_model_id = models.price_model_id
        where list_contains(?, caps.price_model_id)
        order by caps.price_model_id, caps.segment, caps.component_id
        """,
        (list(models),),
    )


def prepaid_pools(models: tuple[str, ...], segment: str = "all") -> pd.DataFrame:
    """Per pool proposal and month, in one segment (`all`: the portfolio): the accounts its
    alerts reached, the liability carried and the breakage (fct_prepaid_pool_monthly)."""
    return _read(
        "the prepaid pools",
        """
        select pools.*, models.name
        from marts.fct_prepaid_pool_monthly as pools
        inner join marts.dim_price_models as models
            on pools.price_model_id = models.price_model_id
        where list_contains(?, pools.price_model_id) and pools.segment = ?
        order by pools.price_model_id, pools.component_id, pools.month
        """,
        (list(models), segment),
    )


def price_book(model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A model's components and tiers, as the price book's CSV columns (docs/price-book.md)."""
    params = (model,)
    components = _read(
        "the price book",
        f"""
        select {", ".join(COMPONENT_COLUMNS)} from marts.dim_price_components
        where price_model_id = ? order by component_id
        """,
        params,
    )
    tiers = _read(
        "the price book's tiers",
        f"""
        select {", ".join(TIER_COLUMNS)} from marts.dim_price_tiers
        where price_model_id = ? order by component_id, tier
        """,
        params,
    )
    return components, tiers


@st.cache_resource(max_entries=2, show_spinner=False)
def _rating_workspace(path: str, version: str) -> rating.WhatIfWorkspace:
    """The rating runner's copy of the build's quantities, actuals and rating SQL, once per
    published build (rating.what_if_workspace)."""
    del version  # only part of the cache key
    return rating.what_if_workspace(Path(path))


# The edits a build's what-if workspace keeps rated (WhatIfWorkspace.kept), the oldest let go first.
WHAT_IF_KEPT = 8


class WhatIfResult(dict):
    """what_if's frames by name, and how they were had: `seconds`, what the re-rating took, and
    `kept`, whether this call read them from an earlier call with the same edit on the same
    build instead of rating again."""

    seconds: float = 0.0
    kept: bool = False


def what_if(
    components: pd.DataFrame,
    tiers: pd.DataFrame,
    segments: tuple[str, ...] = (),
    period: tuple | None = None,
    model_caps: pd.DataFrame | None = None,
) -> WhatIfResult:
    """Every rated account-month re-rated under an edited price book by the rating runner
    (rating.what_if, the build's own rating, shadow-invoice and guardrail SQL).

    Returns `guardrails` (model x segment, as fct_price_model_guardrails), `accounts` (the
    winners and losers over the chosen segments and period, as shadow_account_deltas returns
    them), `monthly` (per month, segment and model), and `caps` (per model, segment and capped
    line: what its spend caps did).
    `model_caps` holds the edited models' own caps (price_models.csv's cap columns). Raises
    QueryFailed with the reason when the book cannot be rated.

    An edit is rated once per published build: the page reruns on every widget and keeps an edit
    in force across visits, so the same book and filters come again and again, and the
    workspace keeps the last WHAT_IF_KEPT of them (rating.what_if_key: the cells as the rating
    reads them). Each call gets its own copies of the frames.
    """
    current = warehouse()
    if not current.exists:
        raise QueryFailed(
            "Could not read the rated quantities.", f"No warehouse file at {current.path}."
        )
    try:
        workspace = _rating_workspace(str(current.path), current.version)
    except duckdb.Error as error:
        raise QueryFailed(
            "Could not read the rated quantities.", f"{type(error).__name__}: {error}"
        ) from error
    key = rating.what_if_key(components, tiers, model_caps, segments, period)
    with workspace.lock:
        found = workspace.kept.get(key)
        if found is not None:
            workspace.kept.move_to_end(key)
    if found is None:
        started = time.perf_counter()
        try:
            frames = rating.what_if(
                workspace, components, tiers, models=model_caps, segments=segments, period=period
            )
        except rating.RatingError as error:
            raise QueryFailed(
                "Could not rate the edited price book; check its cells.", str(error)
            ) from error
        found = (frames, time.perf_counter() - started)
        with workspace.lock:
            workspace.kept[key] = found
            while len(workspace.kept) > WHAT_IF_KEPT:
                workspace.kept.popitem(last=False)
        kept = False
    else:
        kept = True
    frames, seconds = found
    result = WhatIfResult({name: frame.copy() for name, frame in frames.items()})
    result.seconds, result.kept = seconds, kept
    return result


def full_price_book() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The whole price book of the build (models, components, tiers), for the CSV download."""
    models = _read(
        "the price models",
        "select price_model_id, name, description, offered_as, cap_amount, cap_policy "
        "from marts.dim_price_models",
    )
    components = _read(
        "the price book",
        f"select {', '.join(COMPONENT_COLUMNS)} from marts.dim_price_components",
    )
    tiers = _read(
        "the price book's tiers",
        f"select {', '.join(TIER_COLUMNS)} from marts.dim_price_tiers",
    )
    return models, components, tiers
