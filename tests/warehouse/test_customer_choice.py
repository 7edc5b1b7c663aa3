"""Customer choice adds up, on the committed sample and on a generated company: each account paying
at the last month of data takes the option it would have paid less under over the trailing choice
window (unless it saves less than the inertia threshold), and the revenue under choice of every
segment is the sum over its accounts of the option each takes.

Recomputed here in pandas from fct_account_month (MRR by month) and fct_shadow_invoice (each
proposal's shadow charges by month), with the window and threshold read from rpt_settings, not
through the marts' SQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest


@pytest.fixture(params=["sample", "generated"])
def warehouse(request: pytest.FixtureRequest) -> Path:
    name = "sample_warehouse" if request.param == "sample" else "generated_warehouse"
    return Path(request.getfixturevalue(name))


def _independent_choices(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per account paying at the last month and proposal: what it paid and would pay over the
    window, and whether it switches, computed from the month-level marts."""
    settings = dict(conn.execute("select name, value from marts.rpt_settings").fetchall())
    window = int(settings["choice_window_months"])
    inertia = Decimal(settings["choice_inertia_pct"])
    months = conn.execute(
        "select account_id, segment, month, mrr_usd from marts.fct_account_month"
    ).df()
    shadow = conn.execute(
        """
        select shadow.account_id, shadow.month, shadow.price_model_id, shadow.shadow_usd
        from marts.fct_shadow_invoice as shadow
        join marts.dim_price_models as models using (price_model_id)
        where not models.is_current_model
        """
    ).df()
    proposals = conn.execute(
        "select price_model_id from marts.dim_price_models where not is_current_model"
    ).df()["price_model_id"]
    months["month"] = pd.to_datetime(months["month"])
    shadow["month"] = pd.to_datetime(shadow["month"])
    as_of = months["month"].max()
    first = as_of - pd.DateOffset(months=window - 1)
    in_window = months[(months["month"] >= first) & (months["month"] <= as_of)]
    paying = months[(months["month"] == as_of) & (months["mrr_usd"].fillna(0) > 0)]
    paid = (
        in_window.assign(mrr=in_window["mrr_usd"].map(lambda v: Decimal(0) if pd.isna(v) else v))
        .groupby("account_id")["mrr"]
        .sum()
    )
    billed = (
        shadow[(shadow["month"] >= first) & (shadow["month"] <= as_of)]
        .groupby(["account_id", "price_model_id"])["shadow_usd"]
        .sum()
    )
    rows = []
    for account, segment in paying[["account_id", "segment"]].itertuples(index=False):
        for model in proposals:
            now = paid[account]
            proposal = billed.get((account, model), Decimal(0))
            saving = now - proposal
            switches = saving > 0 and round(saving / now, 10) >= inertia
            rows.append(
                {
                    "account_id": account,
                    "segment": segment,
                    "price_model_id": model,
                    "current_usd": now,
                    "proposal_usd": proposal,
                    "switches": switches,
                    "chosen_usd": proposal if switches else now,
                }
            )
    return pd.DataFrame(rows)


def test_each_account_takes_the_option_it_would_have_paid_less_under(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        expected = _independent_choices(conn).set_index(["account_id", "price_model_id"])
        built = (
            conn.execute(
                """
                select account_id, price_model_id, current_usd, proposal_usd,
                    is_choosing_proposal, chosen_usd
                from marts.fct_customer_choice
                """
            )
            .df()
            .set_index(["account_id", "price_model_id"])
        )
    assert len(expected) > 0
    assert set(built.index) == set(expected.index)
    joined = built.join(expected.add_suffix("_expected"))
    for column in ("current_usd", "proposal_usd", "chosen_usd"):
        # sums of decimal(18, 4) amounts, exact to the cent and beyond
        differences = (joined[column] - joined[f"{column}_expected"]).abs()
        assert differences.max() < Decimal("0.0001"), column
    assert (joined["is_choosing_proposal"] == joined["switches_expected"]).all()
    # someone switches and someone stays, or the test proves little
    assert joined["switches_expected"].any() and not joined["switches_expected"].all()


def test_revenue_under_choice_is_the_sum_of_the_option_each_account_takes(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        choices = _independent_choices(conn)
        built = (
            conn.execute(
                """
                select segment, price_model_id, accounts, switching_accounts, current_usd,
                    forced_switch_usd, choice_usd, adverse_selection_usd
                from marts.fct_customer_choice_by_segment
                """
            )
            .df()
            .set_index(["segment", "price_model_id"])
        )
    whole_base = choices.assign(segment="all")
    for (segment, model), group in pd.concat([choices, whole_base]).groupby(
        ["segment", "price_model_id"]
    ):
        row = built.loc[(segment, model)]
        forced, chosen = group["proposal_usd"].sum(), group["chosen_usd"].sum()
        assert row["accounts"] == len(group)
        assert row["switching_accounts"] == group["switches"].sum()
        assert abs(row["current_usd"] - group["current_usd"].sum()) < Decimal("0.0001")
        assert abs(row["forced_switch_usd"] - forced) < Decimal("0.0001"), (segment, model)
        assert abs(row["choice_usd"] - chosen) < Decimal("0.0001"), (segment, model)
        # the adverse selection is what the accounts that stay would have paid more by force
        stayers = group[~group["switches"]]
        given_up = (stayers["proposal_usd"] - stayers["current_usd"]).sum()
        assert abs(row["adverse_selection_usd"] - given_up) < Decimal("0.0001")
    assert len(built) == choices.groupby(["segment", "price_model_id"]).ngroups + len(
        choices["price_model_id"].unique()
    )


def test_the_plan_under_choice_moves_only_the_accounts_that_would_take_the_proposal(
    sample_warehouse,
):
    # Offered as an option, the plan moves only its accounts that would take the proposal: where
    # all of a segment's accounts would, it is the plan itself; where none would, it is staying
    # on the current model, month for month; in between it lies elsewhere. The sample has all
    # three (every account takes per-token pricing; no smb account takes the hybrid).
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        impact = conn.execute(
            """
            select segment, price_model_id, months_ahead, plan_accounts, choosing_accounts,
                current_projected_revenue_usd, plan_projected_revenue_usd,
                plan_choice_projected_revenue_usd, current_revenue_usd, plan_revenue_usd,
                plan_choice_revenue_usd
            from marts.rpt_migration_plan_impact
            where segment <> 'all'
            """
        ).df()
        choosers = conn.execute(
            """
            select segment, price_model_id, count(*) filter (where is_choosing_proposal)
            from marts.fct_customer_choice group by all
            """
        ).fetchall()
    counts = {(segment, model): chosen for segment, model, chosen in choosers}
    for row in impact.itertuples():
        assert row.choosing_accounts == counts[(row.segment, row.price_model_id)], row
    everyone = impact[impact["choosing_accounts"] == impact["plan_accounts"]]
    nobody = impact[impact["choosing_accounts"] == 0]
    assert len(everyone) > 0 and len(nobody) > 0
    assert (
        everyone["plan_choice_projected_revenue_usd"] == everyone["plan_projected_revenue_usd"]
    ).all()
    assert (everyone["plan_choice_revenue_usd"] == everyone["plan_revenue_usd"]).all()
    assert (
        nobody["plan_choice_projected_revenue_usd"] == nobody["current_projected_revenue_usd"]
    ).all()
    assert (nobody["plan_choice_revenue_usd"] == nobody["current_revenue_usd"]).all()
    some = impact[
        (impact["choosing_accounts"] > 0)
        & (impact["choosing_accounts"] < impact["plan_accounts"])
        & (impact["months_ahead"] >= 1)
    ]
    assert len(some) > 0
    assert (some["plan_choice_projected_revenue_usd"] != some["plan_projected_revenue_usd"]).any()
