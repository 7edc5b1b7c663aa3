"""Prepaid pools' alerts, liability and breakage (fct_prepaid_pool_monthly,
fct_prepaid_pool_alerts) on a generated company, against an independent reading of the replay's
lines: each month's accounts at or above each alert, the carried units and expired units valued at
the pool's price over its units (read from the price book's CSV), and each account's first and
latest month at each level."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb
import pandas as pd

from tests.conftest import REPO_ROOT

PRICE_BOOK = REPO_ROOT / "dbt_project" / "seeds" / "price_book"
CENT = Decimal("0.0001")


def _pool_prices() -> dict[tuple[str, str], Decimal]:
    components = pd.read_csv(PRICE_BOOK / "price_components.csv", dtype=str).fillna("")
    pools = components[components["charge_model"] == "prepaid_pool"]
    assert not pools.empty  # the shipped book has a pool proposal
    return {
        (row.price_model_id, row.component_id): Decimal(row.flat_amount) / Decimal(row.pool_units)
        for row in pools.itertuples()
    }


def test_pool_months_agree_with_the_replay_lines(generated_warehouse):
    prices = _pool_prices()
    with duckdb.connect(str(generated_warehouse), read_only=True) as conn:
        lines = conn.execute(
            """
            select lines.price_model_id, lines.component_id, accounts.segment, lines.month,
                lines.account_id, lines.pool_alert_pct, cast(lines.pool_closing_units as varchar),
                cast(lines.pool_expired_units as varchar)
            from marts.fct_shadow_invoice_lines as lines
            inner join marts.dim_accounts as accounts on lines.account_id = accounts.account_id
            where lines.charge_model = 'prepaid_pool'
            """
        ).fetchall()
        monthly = conn.execute(
            """
            select price_model_id, component_id, segment, month, accounts, accounts_alerted_70,
                accounts_alerted_90, accounts_alerted_100, liability_usd, breakage_usd
            from marts.fct_prepaid_pool_monthly
            """
        ).fetchall()
        alerts = conn.execute(
            """
            select price_model_id, component_id, account_id, alert_pct, first_month,
                latest_month, months_reached
            from marts.fct_prepaid_pool_alerts
            """
        ).fetchall()
    assert lines
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, Decimal(0), Decimal(0)])
    reached: dict[tuple, list] = {}
    for model, component, segment, month, account, alert, closing, expired in lines:
        price = prices[(model, component)]
        for seg in (segment, "all"):
            row = expected[(model, component, seg, month)]
            row[0] += 1
            for position, level in enumerate((70, 90, 100), start=1):
                row[position] += alert >= level
            row[4] += Decimal(closing) * price
            row[5] += Decimal(expired) * price
        for level in (70, 90, 100):
            if alert >= level:
                key = (model, component, account, level)
                first, latest, months = reached.get(key, (month, month, 0))
                reached[key] = (min(first, month), max(latest, month), months + 1)
    got = {
        (model, component, segment, month): [accounts, a70, a90, a100, liability, breakage]
        for model, component, segment, month, accounts, a70, a90, a100, liability, breakage in (
            monthly
        )
    }
    assert set(got) == set(expected)
    for key, (accounts, a70, a90, a100, liability, breakage) in expected.items():
        # each line's value is kept at 12 decimals, then the month's sum at 4: within a cent
        assert got[key][:4] == [accounts, a70, a90, a100], key
        assert abs(got[key][4] - liability) < Decimal("0.01"), key
        assert abs(got[key][5] - breakage) < Decimal("0.01"), key
    assert any(row[3] > 0 for row in got.values())  # some account used its whole pool
    assert {
        (m, c, a, level): (first, latest, n) for m, c, a, level, first, latest, n in alerts
    } == (reached)
