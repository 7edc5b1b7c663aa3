"""Value shift: automation share, bill shock, the accounts' value, the usage
mix and seats against usage per seat.
"""

from __future__ import annotations

import pandas as pd

from ._core import _period_clause, _read, _segments_or_all


def bill_shock_monthly(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """The real invoices' bill-shock rate (price model `current`)."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the bill-shock rate",
        f"""
        select month, segment, billed_accounts, judged_accounts, shocked_accounts,
            bill_shock_rate
        from marts.fct_bill_shock_monthly
        where price_model_id = 'current' and list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_segments_or_all(segments), *period_params),
    )


def automation_by_segment(period: tuple | None) -> pd.DataFrame:
    """Automation share of every segment (not only the chosen ones: it is a comparison)."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the automation share",
        f"""
        select month, segment, tasks, agent_tasks, automation_share, seat_utilization,
            tasks_per_seat, tokens_per_seat, billable_seats
        from marts.rpt_revenue_portfolio_monthly
        where segment != 'all' and {period_sql}
        order by month, segment
        """,
        period_params,
    )


def account_value(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """One row per account over the period: seats at its end, usage per seat, revenue, cost,
    margin and the months it was a power user.

    `gross_margin` and `is_power_user` are the account's over the reader's period (the rules of
    the `gross_margin` and `power_user` docs applied to the period's sums), not fct_account_month's
    columns of those names, which are per month: no mart can hold a period the reader picks.
    `power_user_months` counts the mart's monthly flag. Re-aggregating the monthly margin instead
    changes the figures (on the sample, an MRR-weighted mean moves 3 of 40 accounts over the
    whole period: a month with cost but no MRR has no monthly margin)."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the accounts' value",
        f"""
        with

        chosen as (
            select * from marts.fct_account_month
            where (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        ),

        per_account as (
            select
                account_id,
                any_value(segment) as segment,
                arg_max(billable_seats, month) as billable_seats,
                sum(tasks) as tasks,
                sum(input_tokens + output_tokens) as tokens,
                sum(billable_seats) as seat_months,
                sum(mrr_usd) as mrr_usd,
                sum(cost_to_serve_usd) as cost_to_serve_usd,
                count(*) filter (where is_power_user) as power_user_months,
                avg(automation_share) as automation_share
            from chosen
            group by account_id
        )

        select
            *,
            tasks / nullif(seat_months, 0) as tasks_per_seat,
            tokens / nullif(seat_months, 0) as tokens_per_seat,
            (mrr_usd - cost_to_serve_usd) / nullif(mrr_usd, 0) as gross_margin,
            cost_to_serve_usd > mrr_usd and mrr_usd > 0 as is_power_user
        from per_account
        where mrr_usd > 0 or cost_to_serve_usd > 0
        order by gross_margin nulls last, account_id
        """,
        (list(segments), list(segments), *period_params),
    )


# The dimensions the usage mix can be read by; a column name goes into the SQL only from here.
USAGE_MIX_DIMENSIONS = ("feature", "model_tier")


def usage_mix_monthly(
    dimension: str, segments: tuple[str, ...], period: tuple | None
) -> pd.DataFrame:
    """fct_usage_mix_monthly by month x `dimension` (feature or model tier) x actor type, summed
    over the chosen segments (every segment when none is chosen), with each row's share of the
    actor type's tasks in the month (what agents spend their work on, against humans)."""
    if dimension not in USAGE_MIX_DIMENSIONS:
        raise ValueError(f"the usage mix is not read by {dimension!r}")
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the usage mix",
        f"""
        with

        chosen as (
            select * from marts.fct_usage_mix_monthly
            where (len(?) = 0 or list_contains(?, segment)) and {period_sql}
        ),

        summed as (
            select
                month,
                {dimension},
                actor_type,
                sum(tasks) as tasks,
                sum(tokens) as tokens,
                sum(cost_to_serve_usd) as cost_to_serve_usd
            from chosen
            group by month, {dimension}, actor_type
        )

        select
            *,
            tasks / nullif(sum(tasks) over (partition by month, actor_type), 0)
                as share_of_actor_tasks
        from summed
        order by month, actor_type, {dimension}
        """,
        (list(segments), list(segments), *period_params),
    )


def seats_and_usage_per_seat(segments: tuple[str, ...], period: tuple | None) -> pd.DataFrame:
    """Billable seats at month end beside tasks and tokens per seat, for the chosen segments (or
    `all`), from rpt_revenue_portfolio_monthly."""
    period_sql, period_params = _period_clause("month", period)
    return _read(
        "the seats and usage per seat",
        f"""
        select month, segment, billable_seats, tasks, tasks_per_seat, tokens, tokens_per_seat
        from marts.rpt_revenue_portfolio_monthly
        where list_contains(?, segment) and {period_sql}
        order by month, segment
        """,
        (_segments_or_all(segments), *period_params),
    )


def model_cost_curve() -> pd.DataFrame:
    """Each LLM tier's first and latest price (per 1,000 input plus 1,000 output tokens), the
    yearly decline measured between them, and the decline the projection applies (the setting's
    where it names the tier) (fct_model_cost_curve)."""
    return _read(
        "the model cost curve",
        """
        select model, dated_prices, first_effective_from, first_usd_per_1k_in_and_out,
            latest_effective_from, latest_usd_per_1k_in_and_out, yearly_decline,
            projection_yearly_decline, is_projection_decline_set
        from marts.fct_model_cost_curve
        order by latest_usd_per_1k_in_and_out
        """,
    )
