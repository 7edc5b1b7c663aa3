"""A prepaid pool's replay resumed from the state a rated line carries equals the replay from the
first month: what shadow billing's incremental runs rely on (macro prepaid_pool_replay's
`pool_state`), checked at every month of two years for pools whose terms, rollovers and caps
cross the month it resumes at.

The replay from the first month is the rating SQL the sample warehouse's build published
(marts.rpt_rating_sql); the resumed one is the same macro compiled by dbt with a pool state."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib import rating
from tests.warehouse._price_book_rows import create_price_book

POOL_STATE = "rating_pool_state"

_POOL = {"metric": "tokens", "charge_model": "prepaid_pool"}
COMPONENTS = [
    # bought once a year, 10% of the allotment rolls into the next year and lives one more year
    {
        **_POOL,
        "price_model_id": "annual",
        "component_id": "pool",
        "unit_size": "1",
        "unit_amount": "2",
        "flat_amount": "4700",
        "pool_units": "4700",
        "rollover_pct": "10",
        "rollover_periods": "1",
        "pool_term_periods": "12",
    },
    # monthly, as the shipped price book's pool: 20% rolls over and lives twelve more months
    {
        **_POOL,
        "price_model_id": "monthly",
        "component_id": "pool",
        "unit_size": "10",
        "unit_amount": "0.4",
        "flat_amount": "100",
        "pool_units": "40",
        "rollover_pct": "20",
        "rollover_periods": "12",
    },
    # a quarter's term, a quarter of it rolling over for two more quarters, its bill hard-capped
    {
        **_POOL,
        "price_model_id": "quarterly",
        "component_id": "pool",
        "unit_size": "1",
        "unit_amount": "0.5",
        "flat_amount": "90",
        "pool_units": "600",
        "rollover_pct": "25",
        "rollover_periods": "2",
        "pool_term_periods": "3",
        "cap_amount": "120",
        "cap_policy": "hard",
    },
]
MONTHS = [f"{2025 + index // 12}-{index % 12 + 1:02d}-01" for index in range(24)]


def _usage(account: int, month: int) -> int | None:
    """Tokens of an account in a month (None: no rated month). `a` every month, from quiet to
    spiky, and quiet in April 2026, when a quarter opens with units carried into it (so it holds
    carried units and allotment left at once); `b` from July 2025 on; `c` with no rated month
    from October to December 2025 (a gap does not age the units)."""
    if account == 0 and month == 15:
        return 60
    if account == 1 and month < 6:
        return None
    if account == 2 and 9 <= month <= 11:
        return None
    return (month * 37 + account * 101) % 7 * 60 + (900 if month % 5 == account else 0)


_COLUMNS = (
    "account_id, period, price_model_id, component_id, amount, uncapped_amount, capped_amount, "
    "blocked_units, is_over_cap, pool_opening_units, pool_available_units, pool_used_units, "
    "pool_overage_units, pool_expired_units, pool_closing_units, pool_alert_pct, "
    "pool_period_number, pool_carry_out, pool_term_used_units, "
    "pool_term_available_units"
)


@pytest.fixture(scope="module")
def resumed_sql() -> str:
    return rating.compile_rating_sql(pool_state=POOL_STATE)


def test_a_pool_resumed_at_any_month_replays_as_from_the_first(sample_warehouse, resumed_sql):
    full_sql = rating.rating_sql_from_warehouse(sample_warehouse)
    assert full_sql and POOL_STATE not in full_sql
    assert POOL_STATE in resumed_sql
    _assert_resumed_replays_agree(full_sql, resumed_sql)


def _assert_resumed_replays_agree(full_sql: str, resumed_sql: str) -> None:
    with duckdb.connect() as conn:
        create_price_book(conn, COMPONENTS)
        rows = [
            f"('{'abc'[account]}', date '{month}', {units})"
            for account in range(3)
            for index, month in enumerate(MONTHS)
            if (units := _usage(account, index)) is not None
        ]
        conn.execute(
            "create table all_usage as select account_id, period, 'tokens' as metric, "
            "cast(quantity as decimal(38, 12)) as quantity, cast(0 as decimal(38, 12)) as events "
            f"from (values {', '.join(rows)}) as u(account_id, period, quantity)"
        )
        conn.execute(
            f"create view {rating.USAGE_RELATION} as select * from all_usage"
            " where period >= getvariable('resume_at')"
        )
        conn.execute(f"set variable resume_at = date '{MONTHS[0]}'")
        conn.execute(f"create table full_lines as select {_COLUMNS} from ({full_sql}) as rated")
        # the replay from the first month is not trivial: every pool bills overage, rolls units
        # over and expires some, and the capped one hits its cap
        overage, expiry, carried, capped = conn.execute(
            """select count(distinct price_model_id) filter (where pool_overage_units > 0),
                count(distinct price_model_id) filter (where pool_expired_units > 0),
                count(distinct price_model_id) filter (where list_sum(pool_carry_out) > 0),
                count(*) filter (where is_over_cap and blocked_units > 0)
            from full_lines"""
        ).fetchone()
        assert (overage, expiry, carried) == (3, 3, 3), (overage, expiry, carried)
        assert capped > 0
        # and a pool closes a month mid-term with both units carried and allotment left: a
        # resume after it must take what is left of the term (the closing units less those
        # carried) apart from what was carried
        mid_term = conn.execute(
            """select count(*) from full_lines
            where list_sum(pool_carry_out) > 0 and pool_closing_units > list_sum(pool_carry_out)"""
        ).fetchone()[0]
        assert mid_term > 0
        checked = 0
        for month in MONTHS[1:]:
            conn.execute(f"set variable resume_at = date '{month}'")
            conn.execute(
                f"""create or replace table {POOL_STATE} as
                select account_id, price_model_id, component_id, pool_period_number,
                    pool_carry_out, pool_closing_units, pool_term_used_units,
                    pool_term_available_units
                from full_lines
                where period < date '{month}'
                qualify row_number() over (
                    partition by account_id, price_model_id, component_id order by period desc
                ) = 1"""
            )
            resumed = conn.execute(
                f"select {_COLUMNS} from ({resumed_sql}) as rated order by all"
            ).fetchall()
            expected = conn.execute(
                f"select {_COLUMNS} from full_lines where period >= date '{month}' order by all"
            ).fetchall()
            assert resumed == expected, month
            checked += len(expected)
        # every line after the first month was resumed at least once (3 accounts, 3 models)
        assert checked > 3 * 3 * 12
