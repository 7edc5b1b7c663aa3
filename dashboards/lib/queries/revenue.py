"""Revenue and retention: the portfolio series, NRR and GRR, cohort retention."""

from __future__ import annotations

import pandas as pd

from ._core import _period_clause, _read, _segments_or_all


def revenue_portfolio(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """rpt_revenue_portfolio_monthly for the chosen segments (or `all`), oldest month first."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the revenue portfolio series",
        f"""
        select * from marts.rpt_revenue_portfolio_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_segments_or_all(segments), *period_params),
    )


def nrr_monthly(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the NRR and GRR",
        f"""
        select month, segment, base_accounts, base_mrr_usd, current_mrr_usd, retained_mrr_usd,
            nrr, grr
        from marts.fct_nrr_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_segments_or_all(segments), *period_params),
    )


def cohort_retention(period: tuple | None) -> pd.DataFrame:
    """Cohorts that started in the period, every month since (the mart is not by segment)."""
    period_sql, period_params = _period_clause("cohort_month", period)
    return _read(
        "the cohort retention",
        f"""
        select cohort_month, months_since_start, month, cohort_accounts, retained_accounts,
            mrr_usd, starting_mrr_usd, nrr, logo_retention
        from marts.fct_cohort_retention
        where {period_sql}
        order by cohort_month, months_since_start
        """,
        period_params,
    )
