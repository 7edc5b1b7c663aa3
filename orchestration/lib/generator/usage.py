"""Usage events, generated inside DuckDB: one row per account-day is planned in Python, and SQL
expands it into events with `unnest(range(n))` and derives every attribute from `hash()`.

No Python loop runs per event, so 10M events take seconds. `hash()` is deterministic for a given
DuckDB version (the lock pins it), so the same seed gives the same bytes.
"""

from __future__ import annotations

import calendar
import random
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.generator.calendar import add_months
from orchestration.lib.generator.entities import AUTOMATING_SEGMENT, Subscription

FEATURES = ("chat", "summarize", "ticket_triage", "workflow")
# Feature mix as 100 slots: a list lookup by a hashed percentile (faster than CASE over strings).
HUMAN_FEATURE_SLOTS = [0] * 50 + [1] * 30 + [2] * 12 + [3] * 8
AGENT_FEATURE_SLOTS = [0] * 5 + [1] * 10 + [2] * 50 + [3] * 35
BASE_INPUT_TOKENS = (900, 3500, 1800, 6000)
AGENT_MEAN_TASKS = 3  # agent events complete 1-5 tasks, humans one
# Tokens an event reads, as a multiple of its feature's base: a person's turn carries retrieved
# context (about 9k input tokens on average), an agent's run loops over tools and documents (about
# 300k per run of 1-5 tasks). With model_costs.csv's per-token prices (a plausible range) that puts
# an automating account's cost to serve at a third of its seat revenue by the end of the period,
# while a seat-only account keeps a 90%+ margin.
HUMAN_TOKEN_SCALE = 4.0
AGENT_TOKEN_SCALE = 60.0
# Model tiers as (percent frontier, percent medium), the rest small: people mostly on small models,
# agents plan and check on larger ones, enterprise people a little more on large ones.
HUMAN_TIERS = (8, 35)
ENTERPRISE_HUMAN_TIERS = (14, 40)
AGENT_TIERS = (30, 50)
# Power users' people burn ~48x the tokens of their peers', mostly on the frontier tier, and their
# agents run 6x longer (on the agents' tiers): their cost to serve tops their seat revenue, the
# accounts a pure per-seat price loses money on. Even their largest event stays under
# the 10M-token plausibility bound of the usage expectations (about 2M for a person, 4M for an
# agent).
POWER_USER_TIERS = (75, 20)
POWER_USER_TOKEN_SCALE = 48.0
POWER_USER_AGENT_TOKEN_SCALE = 6.0

USAGE_COLUMNS = (
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
)


def automation_share(segment: str, progress: float) -> float:
    """Target share of tasks done by agents at `progress` (0..1) through the data period."""
    if segment == AUTOMATING_SEGMENT:
        return 0.05 + 0.62 * progress**1.3
    return {"smb": 0.03 + 0.04 * progress, "enterprise": 0.05 + 0.07 * progress}[segment]


def _seat_steps(subscription: Subscription) -> tuple[list[datetime], list[int]]:
    """Billable seats as a step function: change instants and the balance from each on."""
    changes = sorted(
        (event.effective_at, event.seats_delta)
        for event in subscription.events
        if not event.voided and event.seats_delta
    )
    instants, balances, balance = [], [], 0
    for instant, delta in changes:
        balance += delta
        if instants and instants[-1] == instant:
            balances[-1] = balance
        else:
            instants.append(instant)
            balances.append(balance)
    return instants, balances


def plan_account_days(
    subscriptions: list[Subscription],
    start: datetime,
    end: datetime,
    months: int,
    usage_per_seat_day: float,
    seed: int,
) -> pa.Table:
    """One row per account and active day: how many human and agent events it has, and their mix."""
    columns: dict[str, list] = {
        name: []
        for name in (
            "day_id",
            "account_id",
            "account_number",
            "day_epoch",
            "n_human",
            "n_agent",
            "n_users",
            "user_offset",
            "n_agents",
            "frontier_pct",
            "medium_pct",
            "agent_frontier_pct",
            "agent_medium_pct",
            "token_scale",
            "agent_token_scale",
            "file_month",
            "late_eligible",
            "duplicate_shift",
        )
    }
    total_days = (end - start).days
    epoch = datetime(1970, 1, 1)
    day_id = 0
    for subscription in subscriptions:
        account = subscription.account
        rng = random.Random(f"{seed}:usage:{account.index}")
        instants, balances = _seat_steps(subscription)
        last = subscription.canceled_at or end
        utilization = rng.uniform(0.45, 0.65) if account.low_utilization else rng.uniform(0.86, 1.0)
        intensity = rng.uniform(0.7, 1.3)
        share_jitter = rng.uniform(0.85, 1.15)
        (frontier, medium), (agent_frontier, agent_medium) = HUMAN_TIERS, AGENT_TIERS
        scale, agent_scale = 1.0, 1.0
        if account.segment == "enterprise":
            frontier, medium = ENTERPRISE_HUMAN_TIERS
        if account.power_user:
            (frontier, medium), scale = POWER_USER_TIERS, POWER_USER_TOKEN_SCALE
            agent_scale = POWER_USER_AGENT_TOKEN_SCALE
        current = subscription.started_at.replace(hour=0, minute=0, second=0)
        month_key, month_users, user_offset = None, 1, 0
        month_index = days_in_month = 0
        share = 0.0
        while current < last and current < end:
            noon = current + timedelta(hours=12)
            position = bisect_right(instants, noon) - 1
            seats = balances[position] if position >= 0 else 0
            if (current.year, current.month) != month_key:
                month_key = (current.year, current.month)
                progress = (current - start).days / max(1, total_days)
                factor = utilization
                if account.segment == AUTOMATING_SEGMENT:
                    factor *= 1 - 0.4 * progress  # people stop using seats before they cut them
                month_users = max(1, round(seats * factor))
                user_offset = rng.randrange(month_users)
                share = min(0.9, automation_share(account.segment, progress) * share_jitter)
                month_index = (current.year - start.year) * 12 + current.month - start.month
                days_in_month = calendar.monthrange(current.year, current.month)[1]
            season = 1.0
            if current.month == 12:
                season = 0.45 if current.day >= 20 else 0.9
            base = month_users * usage_per_seat_day * intensity * season
            weekday_factor = 1.0 if current.weekday() < 5 else 0.15
            n_human = int(base * weekday_factor * rng.uniform(0.75, 1.25) + rng.random())
            agent_tasks = base * share / (1 - share)  # agents work weekends too
            n_agent = int(agent_tasks / AGENT_MEAN_TASKS * rng.uniform(0.75, 1.25) + rng.random())
            if n_human + n_agent:
                columns["day_id"].append(day_id)
                columns["account_id"].append(account.account_id)
                columns["account_number"].append(account.index + 1)
                columns["day_epoch"].append(int((current - epoch).total_seconds()))
                columns["n_human"].append(n_human)
                columns["n_agent"].append(n_agent)
                columns["n_users"].append(month_users)
                columns["user_offset"].append(user_offset)
                columns["n_agents"].append(1 + round(share * 10) + seats // 40)
                columns["frontier_pct"].append(frontier)
                columns["medium_pct"].append(medium)
                columns["agent_frontier_pct"].append(agent_frontier)
                columns["agent_medium_pct"].append(agent_medium)
                columns["token_scale"].append(scale)
                columns["agent_token_scale"].append(agent_scale)
                columns["file_month"].append(month_index)
                columns["late_eligible"].append(
                    current.day > days_in_month - 5 and month_index < months - 1
                )
                columns["duplicate_shift"].append(
                    int(current.day >= 27 and month_index < months - 1)
                )
                day_id += 1
            # Users take turns through the month: every active user shows up once events suffice.
            user_offset = (user_offset + n_human) % month_users
            current += timedelta(days=1)
    return pa.table(columns)


def generate_usage_sql(
    connection: duckdb.DuckDBPyConnection, account_days: pa.Table, seed: int
) -> None:
    """Creates table `usage_deliveries`: every event once, plus late and re-delivered copies."""
    connection.register("account_days_arrow", account_days)
    # Month-ordered, so the events come out month by month and each month's COPY skips the rest.
    connection.execute(
        "create or replace table account_days as "
        "select * from account_days_arrow order by file_month, day_id"
    )
    connection.unregister("account_days_arrow")
    human_slots = "[" + ", ".join(str(slot) for slot in HUMAN_FEATURE_SLOTS) + "]"
    agent_slots = "[" + ", ".join(str(slot) for slot in AGENT_FEATURE_SLOTS) + "]"
    features = "[" + ", ".join(f"'{name}'" for name in FEATURES) + "]"
    base_tokens = "[" + ", ".join(str(value) for value in BASE_INPUT_TOKENS) + "]"
    # Casts keep the modulo on BIGINT: UBIGINT % INTEGER would promote to HUGEINT (7x slower).
    connection.execute(
        f"""
        create or replace table usage_generated as
        with expanded as (
            select *, unnest(range(n_human + n_agent)) as k from account_days
        ),
        hashed as (
            select
                *,
                k >= n_human as is_agent,
                (hash(day_id, k, {int(seed)}) >> 1)::bigint as h1,
                (hash(k, day_id, {int(seed) + 1}) >> 1)::bigint as h2
            from expanded
        ),
        drawn as (
            select
                *,
                case when is_agent then {agent_slots}[((h1 >> 20) % 100) + 1]
                    else {human_slots}[((h1 >> 20) % 100) + 1] end as feature_index,
                (h1 >> 30) % 100 as model_draw,
                (h2 % 1000) / 1000.0 as token_draw,
                ((h2 >> 12) % 1000) / 1000.0 as output_draw,
                case when is_agent then agent_frontier_pct else frontier_pct end as tier_frontier,
                case when is_agent then agent_medium_pct else medium_pct end as tier_medium,
                (h2 >> 32) % 100 as outcome_draw,
                late_eligible and (h2 >> 40) % 1000 < 20 as is_late,
                (h2 >> 50) % 1000 < 3 as is_duplicated
            from hashed
        )
        select
            'ue_' || lpad(day_id::varchar, 7, '0') || '_' || lpad(k::varchar, 5, '0') as event_id,
            account_id,
            case when is_agent then 'agent' else 'human' end as actor_type,
            case when not is_agent then 'u_' || lpad(account_number::varchar, 5, '0') || '_'
                || lpad(((user_offset + k) % n_users + 1)::varchar, 4, '0') end as user_id,
            case when is_agent then 'ag_' || lpad(account_number::varchar, 5, '0') || '_'
                || lpad(((h1 >> 8) % n_agents + 1)::varchar, 2, '0') end as agent_id,
            make_timestamp((day_epoch + case when is_agent then h1 % 86400
                else 25200 + h1 % 39600 end) * 1000000) as occurred_at,
            {features}[feature_index + 1] as feature,
            case when model_draw < tier_frontier then 'frontier'
                when model_draw < tier_frontier + tier_medium then 'medium'
                else 'small' end as model,
            (
                {base_tokens}[feature_index + 1] * (0.3 + 1.4 * token_draw)
                * case when is_agent then {AGENT_TOKEN_SCALE} * agent_token_scale
                    else {HUMAN_TOKEN_SCALE} * token_scale end
            )::bigint as input_tokens,
            (
                {base_tokens}[feature_index + 1] * (0.3 + 1.4 * token_draw)
                * case when is_agent then {AGENT_TOKEN_SCALE} * agent_token_scale
                    else {HUMAN_TOKEN_SCALE} * token_scale end
                * (0.08 + 0.27 * output_draw)
            )::bigint as output_tokens,
            case when is_agent then 1 + (h2 >> 24) % 5 else 1 end as tasks,
            case when feature_index != 2 then null
                when outcome_draw < case when is_agent then 72 else 80 end then 'resolved'
                when outcome_draw < 92 then 'escalated'
                else 'failed' end as outcome,
            file_month + is_late::integer as file_month,
            is_late,
            is_duplicated,
            duplicate_shift
        from drawn
        """
    )
    connection.execute(
        """
        create or replace view usage_deliveries as
        select * exclude (is_duplicated, duplicate_shift), 0 as delivery from usage_generated
        union all
        select * exclude (is_duplicated, duplicate_shift, file_month),
            file_month + case when is_late then 0 else duplicate_shift end as file_month,
            1 as delivery
        from usage_generated
        where is_duplicated
        """
    )


def write_usage_files(
    connection: duckdb.DuckDBPyConnection,
    out_dir: Path,
    start: str,
    months: int,
    fmt: str,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """One file per month, time-ordered, with that month's late arrivals and re-deliveries."""
    columns = ", ".join(
        "replace(occurred_at::varchar, ' ', 'T') || 'Z' as occurred_at"
        if column == "occurred_at" and fmt != "parquet"
        else "timezone('UTC', occurred_at) as occurred_at"
        if column == "occurred_at"
        else column
        for column in USAGE_COLUMNS
    )
    options = {
        "csv": "format csv, header true",
        "jsonl": "format json",
        "parquet": "format parquet, compression zstd",
    }[fmt]
    counts = {}
    year, month = (int(part) for part in start.split("-"))
    for index in range(months):
        label = add_months(datetime(year, month, 1), index).strftime("%Y-%m")
        path = out_dir / f"usage_events__{label}.{fmt}"
        if progress is not None:
            progress(f"writing {path.name} ({index + 1} of {months})")
        connection.execute(
            f"""
            copy (
                select {columns}
                from usage_deliveries
                where file_month = {index}
                order by usage_deliveries.occurred_at, event_id, delivery
            ) to '{path.as_posix()}' ({options})
            """
        )
        counts[path.name] = connection.execute(
            f"select count(*) from usage_deliveries where file_month = {index}"
        ).fetchall()[0][0]
    return counts
