"""A prepaid pool bought once a year: an annual term with a 20% rollover into the next term, its
balances, breakage, alerts and charges over two terms, worked by hand (docs/price-book.md). The
rating SQL is the one the sample warehouse's build published (marts.rpt_rating_sql)."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from orchestration.lib import rating
from tests.warehouse._price_book_rows import create_price_book

D = Decimal

COMPONENT = {
    "price_model_id": "annual",
    "component_id": "pool",
    "metric": "tokens",
    "charge_model": "prepaid_pool",
    "unit_size": "1",
    "unit_amount": "2",  # overage per unit
    "flat_amount": "1200",  # the year's price, billed in the term's first month
    "pool_units": "1200",  # the year's allotment
    "rollover_pct": "20",  # at most 240 units roll into the next year
    "rollover_periods": "1",  # and live one more year
    "pool_term_periods": "12",
}
# 2025: 50 units a month for eleven months, none in December. 2026: 1,100, 250, 200, then none.
USAGE = [50] * 11 + [0] + [1100, 250, 200] + [0] * 9
MONTHS = [f"{2025 + index // 12}-{index % 12 + 1:02d}-01" for index in range(24)]

# (opening, available, overage, expired, closing, alert %, charge) per month.
# Term 1: the year's 1,200 units are bought in January (charge 1,200); each month burns 50 of
#   them: opening 1,200 - 50 x (n - 1) in month n, closing 1,150 ... 650. No alert: 550 used of
#   1,200 is 46% (70% would be 840). December ends the term: of the 650 left, 240 (20% of 1,200)
#   roll over, 410 expire; 240 carried.
# Term 2: January buys 1,200 more (charge 1,200): available 240 + 1,200 = 1,440. 1,100 used burns
#   the 240 rolled first, then 860 of the new units: 340 left; 1,100 of 1,440 is 76% (alert 70).
#   February: 250 of the 340: 90 left; the term has used 1,350, 94% (alert 90). March: 200, of
#   which 90 from the pool and 110 overage at 2 (charge 220); 1,550 of 1,440 used (alert 100,
#   which stays for the rest of the term). December: nothing left to roll over or expire.
TERM_ONE = [(0, 1200, 0, 0, 1150, 0, 1200)] + [
    (1200 - 50 * n, 1200 - 50 * n, 0, 0, 1150 - 50 * n, 0, 0) for n in range(1, 11)
]
EXPECTED = [
    *TERM_ONE,
    (650, 650, 0, 410, 240, 0, 0),
    (240, 1440, 0, 0, 340, 70, 1200),
    (340, 340, 0, 0, 90, 90, 0),
    (90, 90, 110, 0, 0, 100, 220),
    *[(0, 0, 0, 0, 0, 100, 0)] * 9,
]


def test_an_annual_pool_rolls_twenty_percent_into_its_second_year(sample_warehouse):
    sql = rating.rating_sql_from_warehouse(sample_warehouse)
    with duckdb.connect() as conn:
        create_price_book(conn, [COMPONENT])
        months = ", ".join(
            f"(date '{month}', {units})" for month, units in zip(MONTHS, USAGE, strict=True)
        )
        conn.execute(
            f"create temp table {rating.USAGE_RELATION} as select 'a' as account_id, period, "
            "'tokens' as metric, cast(quantity as decimal(38, 12)) as quantity, "
            f"cast(0 as decimal(38, 12)) as events from (values {months}) as u(period, quantity)"
        )
        rows = conn.execute(
            f"""
            select pool_opening_units, pool_available_units, pool_overage_units,
                pool_expired_units, pool_closing_units, pool_alert_pct, amount
            from ({sql}) as rated
            where component_id = 'pool'
            order by period
            """
        ).fetchall()
    assert [tuple(D(str(value)) for value in row) for row in rows] == [
        tuple(D(value) for value in row) for row in EXPECTED
    ]


def test_the_format_wants_a_whole_term_of_at_least_one_month():
    import pandas as pd

    from orchestration.lib import price_book

    for term, bad in (("12", False), ("0", True), ("1.5", True)):
        row = {**COMPONENT, "pool_term_periods": term}
        components = pd.DataFrame([row], columns=list(rating.COMPONENT_COLUMNS)).astype(object)
        components = components.where(components.notna(), "")
        found = price_book.problems(components, pd.DataFrame(columns=list(rating.TIER_COLUMNS)))
        assert any(p.column == "pool_term_periods" for p in found) is bad, (term, found)
