"""Spend caps in the rating engine, against hand-worked periods of each policy and charge model
(docs/price-book.md, docs block spend_cap).

The rating SQL is the one the sample warehouse's build published (marts.rpt_rating_sql), the text
shadow billing and the what-if run; each case states its arithmetic beside its figures.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from orchestration.lib import price_book, rating

D = Decimal


def _component(model: str, component: str, metric: str, charge_model: str, **fields: str) -> dict:
    return {"price_model_id": model, "component_id": component, "metric": metric,
            "charge_model": charge_model, **fields}  # fmt: skip


COMPONENTS = [
    # the format's own example: 0.02 per 1,000 tokens, capped at 150 per period
    _component("std_hard", "tokens", "tokens", "standard", unit_size="1000", unit_amount="0.02",
               cap_amount="150", cap_policy="hard"),
    _component("std_soft", "tokens", "tokens", "standard", unit_size="1000", unit_amount="0.02",
               cap_amount="150", cap_policy="soft"),
    # an empty policy is hard
    _component("std_default", "tokens", "tokens", "standard", unit_size="1000",
               unit_amount="0.02", cap_amount="150"),
    _component("grad", "tasks", "tasks", "graduated", cap_amount="30"),
    _component("grad_jump", "tasks", "tasks", "graduated", cap_amount="26"),
    _component("pkg", "requests", "requests", "package", package_size="100", package_amount="5",
               free_units="50", cap_amount="12"),
    _component("pool", "tokens", "tokens", "prepaid_pool", unit_size="1000", unit_amount="0.5",
               flat_amount="80", pool_units="100", cap_amount="100"),
    _component("vol", "tasks", "tasks", "volume", cap_amount="10"),
    _component("min", "seats", "seats", "standard", unit_amount="10", minimum_amount="100",
               cap_amount="120"),
    # a model's own cap on its whole bill: a platform fee and tokens
    _component("whole_hard", "fee", "platform", "flat_fee", flat_amount="49.99"),
    _component("whole_hard", "tokens", "tokens", "standard", unit_size="1000",
               unit_amount="0.05"),
    _component("whole_soft", "fee", "platform", "flat_fee", flat_amount="49.99"),
    _component("whole_soft", "tokens", "tokens", "standard", unit_size="1000",
               unit_amount="0.05"),
    _component("whole_under", "fee", "platform", "flat_fee", flat_amount="49.99"),
]  # fmt: skip
TIERS = [
    # tier 1: up to 10 at 2 + flat 5; tier 2: up to 20 at 1 + flat 3; tier 3: 0.5 beyond
    *[(model, "tasks", "1", "10", "2", "", "5") for model in ("grad", "grad_jump", "vol")],
    *[(model, "tasks", "2", "20", "1", "", "3") for model in ("grad", "grad_jump", "vol")],
    *[(model, "tasks", "3", "", "0.5", "", "") for model in ("grad", "grad_jump", "vol")],
]
MODELS = [
    {"price_model_id": "whole_hard", "cap_amount": "100", "cap_policy": "hard"},
    {"price_model_id": "whole_soft", "cap_amount": "100", "cap_policy": "soft"},
    {"price_model_id": "whole_under", "cap_amount": "100", "cap_policy": ""},
]
USAGE = [
    # account, metric, quantity: one period (2025-01) for everything
    ("a", "tokens", "10000000"),
    ("a", "tasks", "25"),
    ("a", "requests", "251"),
    ("a", "seats", "15"),
    ("b", "tokens", "1234567"),
    ("c", "tokens", "250000"),
]

# (account, model, component) -> (amount, uncapped, capped, blocked units, over the cap)
HAND = {
    # 10,000,000 tokens = 10,000 units x 0.02 = 200 > 150: billed 150, 50 given up; the cap is
    # reached at 150 / 0.02 = 7,500 units, so 2,500 are blocked
    ("a", "std_hard", "tokens"): (D("150"), D("200"), D("50"), D("2500"), True),
    # soft: billed in full, an alert, nothing given up or blocked
    ("a", "std_soft", "tokens"): (D("200"), D("200"), D("0"), D("0"), True),
    ("a", "std_default", "tokens"): (D("150"), D("200"), D("50"), D("2500"), True),
    # 25 tasks graduated: 10 x 2 + 5 = 25, then 10 x 1 + 3 = 13, then 5 x 0.5 = 2.5: 40.5 > 30.
    # Tier 1 ends at 25 < 30; tier 2 starts at 25 + 3 = 28 and ends at 38 >= 30: the cap is
    # reached at 10 + (30 - 28) / 1 = 12 tasks, so 13 are blocked; 10.5 given up
    ("a", "grad", "tasks"): (D("30"), D("40.5"), D("10.5"), D("13"), True),
    # cap 26: tier 1 ends at 25 <= 26, but entering tier 2 (its flat 3) makes 28 > 26: the cap
    # is reached at tier 1's end, 10 tasks; 15 blocked, 40.5 - 26 = 14.5 given up
    ("a", "grad_jump", "tasks"): (D("26"), D("40.5"), D("14.5"), D("15"), True),
    # 251 requests - 50 free = 201 -> 3 packages x 5 = 15 > 12: whole packages within 12 are
    # floor(12 / 5) = 2, i.e. 50 + 200 = 250 requests; 1 blocked, 3 given up
    ("a", "pkg", "requests"): (D("12"), D("15"), D("3"), D("1"), True),
    # 25 tasks volume: tier 3 prices all, 25 x 0.5 = 12.5 > 10: 2.5 given up; blocked pro rata
    # 25 x 2.5 / 12.5 = 5
    ("a", "vol", "tasks"): (D("10"), D("12.5"), D("2.5"), D("5"), True),
    # 15 seats x 10 = 150 (above the minimum 100) > 120: 30 given up; reached at 12 seats
    ("a", "min", "seats"): (D("120"), D("150"), D("30"), D("3"), True),
    # 250,000 tokens = 250 units; pool of 100 for 80, overage 150 x 0.5 = 75: 155 > 100. The cap
    # leaves (100 - 80) / 0.5 = 40 units of overage: 110 blocked, 55 given up
    ("c", "pool", "tokens"): (D("100"), D("155"), D("55"), D("110"), True),
    # b: 1,234,567 tokens x 0.05 / 1,000 = 61.72835 (61.73 on the invoice) + fee 49.99 = 111.72
    # on the invoice > 100: the model_cap line takes 11.72 off, the invoice totals exactly 100
    ("b", "whole_hard", "model_cap"): (D("-11.72"), D("0"), D("11.72"), None, True),
    ("b", "whole_soft", "model_cap"): (D("0"), D("0"), D("0"), None, True),
    # a: 10,000 units x 0.05 = 500 + 49.99: far above; whole_under bills the fee only (49.99)
    ("a", "whole_hard", "model_cap"): (D("-449.99"), D("0"), D("449.99"), None, True),
    ("a", "whole_under", "model_cap"): (D("0"), D("0"), D("0"), None, False),
}


def _values(rows: list[dict], columns: tuple[str, ...], name: str) -> str:
    cells = ", ".join(
        "(" + ", ".join(f"'{row.get(column, '')}'" for column in columns) + ")" for row in rows
    )
    return f"select * from (values {cells}) as {name}({', '.join(columns)})"


@pytest.fixture(scope="module")
def rated(sample_warehouse) -> pd.DataFrame:
    sql = rating.rating_sql_from_warehouse(sample_warehouse)
    with duckdb.connect() as conn:
        conn.execute(
            f"create temp table {rating.COMPONENTS_RELATION} as "
            + _values(COMPONENTS, rating.COMPONENT_COLUMNS, "c")
        )
        tiers = [dict(zip(rating.TIER_COLUMNS, row, strict=True)) for row in TIERS]
        conn.execute(
            f"create temp table {rating.TIERS_RELATION} as "
            + _values(tiers, rating.TIER_COLUMNS, "t")
        )
        conn.execute(
            f"create temp table {rating.MODELS_RELATION} as "
            + _values(MODELS, rating.MODEL_CAP_COLUMNS, "m")
        )
        usage = [{"account_id": a, "metric": m, "quantity": q} for a, m, q in USAGE]
        conn.execute(
            f"create temp table {rating.USAGE_RELATION} as select account_id, "
            "date '2025-01-01' as period, metric, cast(quantity as decimal(38, 12)) as quantity, "
            "cast(0 as decimal(38, 12)) as events from ("
            + _values(usage, ("account_id", "metric", "quantity"), "u")
            + ")"
        )
        rating.rate_usage_into_lines(conn, sql)
        return conn.execute(
            f"""
            select account_id, price_model_id, component_id, amount, uncapped_amount,
                capped_amount, blocked_units, is_over_cap
            from {rating.LINES_RELATION}
            """
        ).df()


@pytest.mark.parametrize(("account", "model", "component"), sorted(HAND))
def test_each_cap_policy_bills_gives_up_and_blocks_as_worked_by_hand(
    rated, account, model, component
):
    row = rated[
        (rated["account_id"] == account)
        & (rated["price_model_id"] == model)
        & (rated["component_id"] == component)
    ]
    assert len(row) == 1
    line = row.iloc[0]
    amount, uncapped, capped, blocked, over = HAND[(account, model, component)]
    assert D(str(line["amount"])) == amount
    assert D(str(line["uncapped_amount"])) == uncapped
    assert D(str(line["capped_amount"])) == capped
    if blocked is None:
        assert pd.isna(line["blocked_units"])
    else:
        assert D(str(line["blocked_units"])) == blocked
    assert bool(line["is_over_cap"]) is over


def test_a_hard_model_cap_makes_the_invoice_total_exactly_the_cap(rated):
    """The invoice rounds each line to cents and adds them: b under whole_hard is 49.99 + 61.73
    - 11.72 = 100.00, never a cent above."""
    lines = rated[(rated["account_id"] == "b") & (rated["price_model_id"] == "whole_hard")]
    cents = sum(
        (D(str(value)) * 100 + D("0.5")).to_integral_value(rounding="ROUND_FLOOR") / 100
        for value in lines["amount"]
    )
    assert cents == D("100")


def test_only_models_with_a_cap_get_a_cap_line(rated):
    assert set(rated.loc[rated["component_id"] == "model_cap", "price_model_id"]) == {
        "whole_hard",
        "whole_soft",
        "whole_under",
    }


def _book_problems(components: list[dict], models: list[dict] | None = None) -> list[str]:
    frame = pd.DataFrame(components, columns=list(rating.COMPONENT_COLUMNS)).astype(object)
    frame = frame.where(frame.notna(), "")
    tiers = pd.DataFrame(columns=list(rating.TIER_COLUMNS))
    model_frame = None if models is None else pd.DataFrame(models)
    return [f"{p.column}: {p.message}" for p in price_book.problems(frame, tiers, model_frame)]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"cap_amount": "150", "cap_policy": "stop"}, "cap_policy: 'stop' is not a cap policy"),
        ({"cap_policy": "soft"}, "cap_amount: a cap policy needs its cap_amount"),
        ({"cap_amount": "-1"}, "cap_amount: -1 is negative"),
        ({"cap_amount": "10.005"}, "cap_amount: 10.005 is not an amount in cents"),
        ({"cap_amount": "abc"}, "cap_amount: 'abc' is not a number"),
        (
            {"cap_amount": "50", "minimum_amount": "100"},
            "cap_amount: 50 is below the minimum_amount (100)",
        ),
    ],
)
def test_the_format_rejects_a_cap_it_cannot_rate(fields, expected):
    component = _component("x", "tokens", "tokens", "standard", unit_amount="0.02", **fields)
    found = _book_problems([component])
    assert any(problem.startswith(expected) for problem in found), found


def test_a_cap_below_a_fee_billed_whatever_the_usage_is_rejected():
    fee = _component("x", "fee", "platform", "flat_fee", flat_amount="99", cap_amount="50")
    pool = _component("x", "pool", "tokens", "prepaid_pool", unit_size="1000", unit_amount="0.5",
                      flat_amount="80", pool_units="100", cap_amount="60")  # fmt: skip
    found = _book_problems([fee, pool])
    assert (
        "cap_amount: 50 is below the flat_amount (99), which is billed whatever the usage: "
        "a cap cannot be lower"
    ) in found
    assert any(
        problem.startswith("cap_amount: 60 is below the flat_amount (80)") for problem in found
    )


def test_a_valid_cap_and_a_model_cap_pass_and_a_bad_model_cap_does_not():
    ok = _component("x", "tokens", "tokens", "standard", unit_amount="0.02", cap_amount="150.50",
                    cap_policy="soft")  # fmt: skip
    assert _book_problems([ok], [{"price_model_id": "x", "cap_amount": "5000"}]) == []
    found = _book_problems(
        [ok], [{"price_model_id": "x", "cap_amount": "5000", "cap_policy": "maybe"}]
    )
    assert any(problem.startswith("cap_policy: 'maybe' is not a cap policy") for problem in found)


def test_no_component_may_take_the_model_cap_line_id():
    line = _component("x", "model_cap", "platform", "flat_fee", flat_amount="1")
    assert any(
        "the line of a model's own spend cap" in problem for problem in _book_problems([line])
    )
