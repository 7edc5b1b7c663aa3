"""The shipped capped proposal on generated companies, against an independent computation.

*Pure per token* carries a hard cap on its whole bill (price_models.csv). Read straight from the
price book's CSVs, each account-month's uncapped invoice is its per-1,000-token lines rounded
half-up to cents and added (plain Decimal arithmetic over fct_rating_quantities' token counts,
never the rating SQL), and the capped invoice is the smaller of that and the cap. The marts must
agree on every account-month: the shadow invoice never above the cap, the revenue given up exactly
what the uncapped invoice billed above it, and the totals of fct_price_model_guardrails and
fct_shadow_spend_caps their sums.

The 150-account company runs in `make test`; the 1,000-account one (seed 9191, which no other test
uses) in `make test-scale`.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT

PRICE_BOOK = REPO_ROOT / "dbt_project" / "seeds" / "price_book"
MODEL = "per_token"
CENT = Decimal("0.01")


def _cents(amount: Decimal) -> Decimal:
    """Half-up to cents, as a shadow invoice rounds each line."""
    return ((amount * 100 + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)) * CENT


def _independent_invoices(warehouse: Path) -> tuple[Decimal, dict[tuple, tuple[Decimal, Decimal]]]:
    """The cap and (account_id, month) -> (uncapped, capped) invoice of the capped model."""
    models = pd.read_csv(PRICE_BOOK / "price_models.csv", dtype=str).set_index("price_model_id")
    cap = Decimal(models.loc[MODEL, "cap_amount"])
    assert str(models.loc[MODEL, "cap_policy"]).strip() == "hard"
    components = pd.read_csv(PRICE_BOOK / "price_components.csv", dtype=str).fillna("")
    lines = components[components["price_model_id"] == MODEL]
    # every component of the model is standard, unit_amount per unit_size, no free units
    assert set(lines["charge_model"]) == {"standard"} and not "".join(lines["free_units"])
    prices = {
        row.metric: (Decimal(row.unit_amount), Decimal(row.unit_size or "1"))
        for row in lines.itertuples()
    }
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        quantities = conn.execute(
            "select account_id, month, metric, cast(quantity as varchar) "
            "from marts.fct_rating_quantities where list_contains(?, metric)",
            [list(prices)],
        ).fetchall()
        months = conn.execute(
            "select account_id, month from marts.fct_shadow_invoice where price_model_id = ?",
            [MODEL],
        ).fetchall()
    uncapped: dict[tuple, Decimal] = defaultdict(Decimal)
    for account_id, month in months:
        uncapped[(account_id, month)] += 0  # a month with no tokens bills 0
    for account_id, month, metric, quantity in quantities:
        unit_amount, unit_size = prices[metric]
        uncapped[(account_id, month)] += _cents(Decimal(quantity) / unit_size * unit_amount)
    return cap, {key: (total, min(total, cap)) for key, total in uncapped.items()}


def _check(warehouse: Path, *, at_least_capped: int) -> None:
    cap, expected = _independent_invoices(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        invoices = conn.execute(
            """
            select account_id, month, shadow_usd, shadow_uncapped_usd, revenue_given_up_usd,
                is_over_cap
            from marts.fct_shadow_invoice where price_model_id = ?
            """,
            [MODEL],
        ).fetchall()
        guardrail = conn.execute(
            "select revenue_given_up_usd, over_cap_account_months from "
            "marts.fct_price_model_guardrails where price_model_id = ? and segment = 'all'",
            [MODEL],
        ).fetchone()
        caps = conn.execute(
            "select revenue_given_up_usd, over_cap_account_months from marts.fct_shadow_spend_caps"
            " where price_model_id = ? and segment = 'all' and component_id = 'model_cap'",
            [MODEL],
        ).fetchone()
    assert len(invoices) == len(expected) > 0
    given_up, over = Decimal(0), 0
    for account_id, month, shadow, uncapped, revenue_given_up, is_over_cap in invoices:
        want_uncapped, want_capped = expected[(account_id, month)]
        key = (account_id, month)
        assert shadow <= cap, key  # a hard cap is never exceeded
        assert (shadow, uncapped) == (want_capped, want_uncapped), key
        assert revenue_given_up == want_uncapped - want_capped, key
        assert is_over_cap == (want_uncapped > cap), key
        given_up += want_uncapped - want_capped
        over += want_uncapped > cap
    assert over >= at_least_capped, f"only {over} account-months reach the cap"
    assert guardrail == (given_up, over)
    assert caps == (given_up, over)


def test_capped_invoices_agree_with_an_independent_computation(generated_warehouse):
    _check(generated_warehouse, at_least_capped=1)


@pytest.mark.scale
def test_capped_invoices_agree_on_a_thousand_account_company(thousand_account_warehouse):
    with duckdb.connect(str(thousand_account_warehouse), read_only=True) as conn:
        accounts = conn.execute("select count(*) from marts.dim_accounts").fetchone()[0]
    assert accounts >= 1000
    _check(thousand_account_warehouse, at_least_capped=10)
