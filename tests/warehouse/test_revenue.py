"""Revenue marts of the committed sample, checked against independent computations in Python.

The exact hand-worked figures (every movement label, NRR/GRR, cohorts, bill-shock boundaries, FX)
are dbt unit tests beside the models; these tests replay the published rules on the sample's own
rows, from other tables than the marts use, so a wiring mistake between models shows up here.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import duckdb
import pytest

BILL_SHOCK_RATIO = Decimal("1.5")  # dbt var bill_shock_ratio
BILL_SHOCK_MIN_USD = Decimal("100")  # dbt var bill_shock_min_usd


@pytest.fixture(scope="module")
def warehouse(sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        yield connection


def test_the_mrr_waterfall_adds_up_for_every_month_and_segment(warehouse):
    rows = warehouse.execute(
        """
        select month, segment, starting_mrr_usd, new_mrr_usd, expansion_mrr_usd,
            contraction_mrr_usd, churned_mrr_usd, reactivation_mrr_usd, fx_effect_mrr_usd,
            ending_mrr_usd
        from marts.rpt_revenue_portfolio_monthly
        order by segment, month
        """
    ).fetchall()
    assert rows, "the sample has revenue months"
    previous_ending: dict[str, Decimal] = {}
    for month, segment, starting, *movements, ending in rows:
        assert starting + sum(movements) == ending, (month, segment)
        assert starting == previous_ending.get(segment, Decimal(0)), (month, segment)
        previous_ending[segment] = ending


def test_portfolio_nrr_equals_a_python_replay_over_the_account_months(warehouse):
    mrr = {
        (account_id, month): value
        for account_id, month, value in warehouse.execute(
            "select account_id, month, mrr_usd from marts.fct_account_month"
        ).fetchall()
    }
    published = warehouse.execute(
        "select month, base_accounts, nrr, grr from marts.fct_nrr_monthly "
        "where segment = 'all' and nrr is not null"
    ).fetchall()
    assert published, "the sample spans more than twelve months"
    for month, base_accounts, nrr, grr in published:
        base_month = month.replace(year=month.year - 1)
        base = {
            account: value
            for (account, when), value in mrr.items()
            if when == base_month and value > 0
        }
        now = {account: mrr.get((account, month), Decimal(0)) for account in base}
        assert base_accounts == len(base)
        assert nrr == pytest.approx(float(sum(now.values()) / sum(base.values())))
        capped = sum(min(now[account], base[account]) for account in base)
        assert grr == pytest.approx(float(capped / sum(base.values())))


def test_bill_shock_flags_equal_a_python_replay_of_the_rule_on_the_raw_invoices(warehouse):
    # From the raw export (latest version per invoice), not from the staging or revenue models.
    invoices = warehouse.execute(
        """
        select account_id, date_trunc('month', issued_at)::date as month, total, status, currency
        from billing.invoices
        qualify row_number() over (partition by invoice_id order by updated_at desc) = 1
        """
    ).fetchall()
    if any(currency != "USD" for *_, currency in invoices):
        invoices = [row for row in invoices if row[4] == "USD"]
    totals: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    for account_id, month, total, status, _ in invoices:
        if status not in ("void", "draft"):
            totals[account_id][month] += total
    expected = set()
    for account_id, by_month in totals.items():
        # a month that nets to zero or less (a credit) is no bill: neither judged nor compared with
        months = sorted(month for month, total in by_month.items() if total > 0)
        for index, month in enumerate(months[3:], start=3):
            prior = sum(by_month[m] for m in months[index - 3 : index])
            current = by_month[month]
            if 3 * current > BILL_SHOCK_RATIO * prior and 3 * current - prior >= 3 * (
                BILL_SHOCK_MIN_USD
            ):
                expected.add((account_id, month))
    flagged = set(
        warehouse.execute(
            """
            select account_month.account_id, account_month.month
            from marts.fct_account_month as account_month
            inner join marts.dim_accounts using (account_id)
            where account_month.is_bill_shock and dim_accounts.currency = 'USD'
            """
        ).fetchall()
    )
    assert flagged == expected


def test_the_bill_shock_rate_of_the_real_invoices_counts_the_flagged_account_months(warehouse):
    mismatches = warehouse.execute(
        """
        with flags as (
            select month, count(*) filter (where is_billed) as billed,
                count(*) filter (where is_bill_shock) as shocked
            from marts.fct_account_month
            group by month
        )
        select flags.month
        from flags
        inner join marts.fct_bill_shock_monthly as published
            on published.month = flags.month
            and published.segment = 'all'
            and published.price_model_id = 'current'
        where published.billed_accounts != flags.billed
            or published.shocked_accounts != flags.shocked
        """
    ).fetchall()
    assert mismatches == []


def test_every_amount_of_the_sample_converts_to_usd(warehouse):
    assert warehouse.execute("select count(*) from marts.rpt_missing_fx_rates").fetchone() == (0,)
