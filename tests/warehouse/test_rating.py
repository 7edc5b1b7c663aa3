"""`seatshift rate` against worked examples of every charge model of the price book
(docs/price-book.md).

The expected amounts come from `_reference_amount`, a plain-Decimal reading of docs/price-book.md
written for this test (it never calls the SQL), and each case also states its hand figure in a
comment. The rating SQL is the one the sample warehouse's build published (marts.rpt_rating_sql),
i.e. the very text shadow billing ran.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration import cli
from orchestration.lib import rating

D = Decimal


def _component(model: str, component: str, metric: str, charge_model: str, **fields: str) -> tuple:
    """A price_components.csv row; fields not given are empty ("not set")."""
    values = {"price_model_id": model, "component_id": component, "metric": metric,
              "charge_model": charge_model, **fields}  # fmt: skip
    return tuple(values.get(name, "") for name in rating.COMPONENT_COLUMNS)


COMPONENTS = [
    _component("m", "fee", "platform", "flat_fee", flat_amount="49.99"),
    _component("m", "std", "tokens", "standard", unit_size="1000", unit_amount="0.002",
               free_units="500", free_units_per_metric="seats"),
    _component("m", "grad", "tasks", "graduated"),
    _component("m", "vol", "tasks", "volume"),
    _component("m", "pkg", "requests", "package", package_size="100", package_amount="5",
               free_units="50"),
    _component("m", "pct", "gmv", "percentage", free_units="10", rate_pct="1.3",
               fixed_amount="0.25"),
    _component("m", "gpct", "gmv", "graduated_percentage"),
    _component("m", "min", "seats", "standard", unit_amount="10", minimum_amount="100"),
    _component("p", "pool", "tokens", "prepaid_pool", unit_size="1000", unit_amount="0.5",
               flat_amount="80", pool_units="100", rollover_pct="20", rollover_periods="2"),
    _component("q", "pool", "tokens", "prepaid_pool", unit_size="1000", unit_amount="0.5",
               flat_amount="80", pool_units="100"),
]  # fmt: skip
TIERS = [
    # model, component, tier, up_to, per_unit_amount, rate_pct, flat_amount
    ("m", "grad", "1", "10", "2", "", "5"),
    ("m", "grad", "2", "20", "1", "", "3"),
    ("m", "grad", "3", "", "0.5", "", ""),
    ("m", "vol", "1", "10", "2", "", "5"),
    ("m", "vol", "2", "20", "1", "", "3"),
    ("m", "vol", "3", "", "0.5", "", ""),
    ("m", "gpct", "1", "1000", "", "2", ""),
    ("m", "gpct", "2", "", "", "1", "0.30"),
]
COMPONENT_HEADER = list(rating.COMPONENT_COLUMNS)
TIER_HEADER = list(rating.TIER_COLUMNS)

# One account-period per edge case; metrics missing from a period count as 0.
USAGE = {
    # zero usage: flat fee 49.99; graduated tier 1's flat 5 even at 0; volume tier 1: 0 x 2 + 5;
    # percentage: no fixed fee at 0; graduated_percentage tier 1 flat 0; minimum lifts 0 to 100
    ("zero", "2025-01"): {},
    # exactly on a tier bound: tasks 10 -> graduated 10 x 2 + 5 = 25 (tier 2 not reached);
    # volume 10 x 2 + 5 = 25; tokens 1,000,000 = 1000 units, free 500 x 2 seats = 1000 -> 0
    ("bound", "2025-01"): {"tasks": ("10", ""), "tokens": ("1000000", ""), "seats": ("2", "")},
    # just above: tasks 10.5 -> graduated 25 + 0.5 x 1 + 3 = 28.5; volume tier 2: 10.5 x 1 + 3
    # = 13.5; seats 3 -> 30 raised to the minimum 100
    ("above", "2025-01"): {"tasks": ("10.5", ""), "seats": ("3", "")},
    # fractional units: tokens 1,234,567 = 1234.567 units, free 500 x 1 seat -> 734.567 x 0.002
    # = 1.469134; tasks 25 -> graduated 25 + 13 + 5 x 0.5 = 40.5, volume 25 x 0.5 = 12.5
    ("fraction", "2025-01"): {
        "tokens": ("1234567", ""),
        "seats": ("1", ""),
        "tasks": ("25", ""),
    },
    # free units larger than usage: requests 40 < 50 free -> package 0; gmv 8 < 10 free ->
    # percentage 0 x 1.3% + 2 events x 0.25 = 0.5 (fixed fees apply because gmv > 0)
    ("free", "2025-01"): {"requests": ("40", ""), "gmv": ("8", "2")},
    # package rounding up: 251 - 50 = 201 -> 3 packages x 5 = 15; gmv 1500 -> percentage
    # 1490 x 1.3% + 3 x 0.25 = 20.12; graduated_percentage 1000 x 2% + 500 x 1% + 0.30 = 25.30
    ("package", "2025-01"): {"requests": ("251", ""), "gmv": ("1500", "3")},
    # exactly one package: 150 - 50 = 100 -> 1 package
    ("package_exact", "2025-01"): {"requests": ("150", "")},
}
# Pool replays (units of 1,000 tokens): pool 100 for 80/period, overage 0.5/unit.
# Model p: rollover cap 20% (20 units), rolled units live 2 more periods.
#   Jan use 50: 50 left, 20 roll, 30 expire -> 80.
#   Feb use 110: 20 rolled + 100 new = 120, burns the 20 rolled then 90 new; 10 new left, rolls
#     10 -> 80.
#   Mar use 150: 10 rolled + 100 = 110, overage 40 x 0.5 = 20 -> 100.
#   Apr use 0: 0 rolled; 100 new, 20 roll, 80 expire -> 80.
#   May use 0: 20 rolled (from Apr) + 100 new; 20 new roll; Apr's 20 live on (2 periods) -> 80.
#   Jun use 30: Apr's 20 (oldest) burn first, then 10 of May's 20: May's 10 left; 100 new, 20
#     roll -> 80 (Apr's units are used up, none expire).
# Model q: no cap (all unused rolls), rolled units live 1 period (default):
#   Jan use 30: 70 roll -> 80. Feb use 50: burns 50 of the 70 rolled, 20 of them expire; 100 new
#   roll -> 80. Mar use 250: 100 + 100 = 200, overage 50 x 0.5 = 25 -> 105.
POOL_USAGE = {
    ("pool", "2025-01"): "50000",
    ("pool", "2025-02"): "110000",
    ("pool", "2025-03"): "150000",
    ("pool", "2025-04"): "0",
    ("pool", "2025-05"): "0",
    ("pool", "2025-06"): "30000",
    ("pool_q", "2025-01"): "30000",
    ("pool_q", "2025-02"): "50000",
    ("pool_q", "2025-03"): "250000",
}
HAND_FIGURES = {
    ("zero", "m", "fee"): D("49.99"),
    ("zero", "m", "grad"): D("5"),
    ("zero", "m", "vol"): D("5"),
    ("zero", "m", "pct"): D("0"),
    ("zero", "m", "min"): D("100"),
    ("bound", "m", "grad"): D("25"),
    ("bound", "m", "vol"): D("25"),
    ("bound", "m", "std"): D("0"),
    ("above", "m", "grad"): D("28.5"),
    ("above", "m", "vol"): D("13.5"),
    ("above", "m", "min"): D("100"),
    ("fraction", "m", "std"): D("1.469134"),
    ("fraction", "m", "grad"): D("40.5"),
    ("fraction", "m", "vol"): D("12.5"),
    ("free", "m", "pkg"): D("0"),
    ("free", "m", "pct"): D("0.5"),
    ("package", "m", "pkg"): D("15"),
    ("package", "m", "pct"): D("20.12"),
    ("package", "m", "gpct"): D("25.30"),
    ("package_exact", "m", "pkg"): D("5"),
}
POOL_HAND_FIGURES = {
    ("pool", "2025-01"): D("80"),
    ("pool", "2025-02"): D("80"),
    ("pool", "2025-03"): D("100"),
    ("pool", "2025-04"): D("80"),
    ("pool", "2025-05"): D("80"),
    ("pool", "2025-06"): D("80"),
    ("pool_q", "2025-01"): D("80"),
    ("pool_q", "2025-02"): D("80"),
    ("pool_q", "2025-03"): D("105"),
}


def _number(text: str) -> Decimal | None:
    return D(text) if text.strip() else None


def _tiers(model: str, component: str) -> list[tuple[Decimal | None, Decimal, Decimal, Decimal]]:
    rows = sorted((row for row in TIERS if row[:2] == (model, component)), key=lambda r: int(r[2]))
    return [
        (_number(r[3]), _number(r[4]) or D(0), _number(r[5]) or D(0), _number(r[6]) or D(0))
        for r in rows
    ]


def _reference_amount(component: tuple, usage: dict[str, tuple[str, str]]) -> Decimal:
    """One component's charge for one period, read straight from docs/price-book.md."""
    fields = dict(zip(rating.COMPONENT_COLUMNS, component, strict=True))
    metric, charge_model = fields["metric"], fields["charge_model"]
    unit_size, unit_amount, flat_amount = (
        fields[k] for k in ("unit_size", "unit_amount", "flat_amount")
    )
    package_size, package_amount = fields["package_size"], fields["package_amount"]
    free_units, free_metric = fields["free_units"], fields["free_units_per_metric"]
    rate_pct, fixed_amount = fields["rate_pct"], fields["fixed_amount"]
    minimum = fields["minimum_amount"]
    quantity, events = usage.get(metric, ("0", "0"))
    quantity = D(1) if metric == "platform" else D(quantity)
    events = D(events or "0")
    q = quantity / (_number(unit_size) or D(1))
    free = _number(free_units) or D(0)
    if free_metric:
        free *= D(usage.get(free_metric, ("0", ""))[0])
    if charge_model == "flat_fee":
        charge = D(flat_amount)
    elif charge_model == "standard":
        charge = max(D(0), q - free) * D(unit_amount)
    elif charge_model == "package":
        paid = q - free
        charge = D(0) if paid <= 0 else math.ceil(paid / D(package_size)) * D(package_amount)
    elif charge_model == "percentage":
        charge = max(D(0), q - free) * D(rate_pct) / 100
        if q > 0:
            charge += events * D(fixed_amount)
    elif charge_model in ("graduated", "graduated_percentage"):
        charge, previous = D(0), D(0)
        for number, (up_to, per_unit, pct, flat) in enumerate(_tiers(*component[:2]), start=1):
            if number > 1 and not q > previous:  # strict: at q == previous bound, not reached
                break
            top = q if up_to is None else min(q, up_to)
            units = max(D(0), top - previous)
            price = pct / 100 if charge_model == "graduated_percentage" else per_unit
            charge += units * price + flat
            if up_to is None:
                break
            previous = up_to
    elif charge_model == "volume":
        for up_to, per_unit, _, flat in _tiers(*component[:2]):
            if up_to is None or q <= up_to:
                charge = q * per_unit + flat
                break
    else:
        raise AssertionError(charge_model)
    if minimum and charge < D(minimum):
        charge = D(minimum)
    return charge


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def hand_rating(sample_warehouse, tmp_path_factory) -> dict[tuple, Decimal]:
    """`seatshift rate` over the hand price book and usage, with the sample build's SQL."""
    folder = tmp_path_factory.mktemp("rating")
    book = folder / "price_book"
    book.mkdir()
    models = [["m", "Every model", ""], ["p", "Pool", ""], ["q", "Pool, uncapped", ""]]
    _write_csv(book / "price_models.csv", ["price_model_id", "name", "description"], models)
    _write_csv(book / "price_components.csv", COMPONENT_HEADER, COMPONENTS)
    _write_csv(book / "price_tiers.csv", TIER_HEADER, TIERS)
    usage_rows = [
        [account, period, metric, quantity, events]
        for (account, period), metrics in USAGE.items()
        for metric, (quantity, events) in metrics.items()
    ]
    usage_rows += [["zero", "2025-01", "seats", "0", ""]]  # zero's only row
    usage_rows += [
        [account, period, "tokens", q, ""] for (account, period), q in POOL_USAGE.items()
    ]
    _write_csv(folder / "usage.csv", list(rating.USAGE_COLUMNS), usage_rows)
    out = folder / "rated.csv"
    code = cli.main(
        ["rate", "--price-book", str(book), "--usage", str(folder / "usage.csv"),
         "--out", str(out), "--warehouse", str(sample_warehouse)]
    )  # fmt: skip
    assert code == 0
    with open(out, newline="") as handle:
        return {
            (row["account_id"], row["period"], row["price_model_id"], row["component_id"]): D(
                row["amount"]
            )
            for row in csv.DictReader(handle)
        }


def test_every_account_period_gets_every_component_of_every_model(hand_rating):
    periods = {key[:2] for key in hand_rating}
    assert len(hand_rating) == len(periods) * len(COMPONENTS)


@pytest.mark.parametrize(("account", "model", "component"), sorted(HAND_FIGURES))
def test_rate_matches_the_hand_figure_of_each_edge_case(hand_rating, account, model, component):
    amount = hand_rating[(account, "2025-01", model, component)]
    assert amount == HAND_FIGURES[(account, model, component)]


@pytest.mark.parametrize(("account", "period"), sorted(USAGE))
def test_rate_agrees_with_an_independent_reading_of_the_price_book(hand_rating, account, period):
    usage = dict(USAGE[(account, period)])
    for component in COMPONENTS:
        if component[0] != "m":
            continue
        expected = _reference_amount(component, usage)
        actual = hand_rating[(account, period, component[0], component[1])]
        assert actual.quantize(D("0.0001")) == expected.quantize(D("0.0001")), component[1]


@pytest.mark.parametrize(("account", "period"), sorted(POOL_HAND_FIGURES))
def test_prepaid_pool_replay_rolls_over_capped_and_expires(hand_rating, account, period):
    model = "p" if account == "pool" else "q"
    assert hand_rating[(account, period, model, "pool")] == POOL_HAND_FIGURES[(account, period)]


def test_pool_balances_breakage_and_alerts_follow_the_replay(sample_warehouse, tmp_path):
    """The replay's side figures for model p (see POOL_USAGE): balances, breakage and alerts."""
    sql = rating.rating_sql_from_warehouse(sample_warehouse)
    with duckdb.connect() as conn:
        conn.execute(
            f"create temp table {rating.COMPONENTS_RELATION} as select * from (values "
            + ", ".join("(" + ", ".join(f"'{v}'" for v in row) + ")" for row in COMPONENTS[8:9])
            + f") as c({', '.join(COMPONENT_HEADER)})"
        )
        conn.execute(
            f"create temp table {rating.TIERS_RELATION} as select * from (values "
            "('x', 'x', '1', '', '', '', '')) as t(" + ", ".join(TIER_HEADER) + ") where false"
        )
        conn.execute(  # no model has a cap of its own
            f"create temp table {rating.MODELS_RELATION} as select * from (values "
            "('x', '', '')) as m(" + ", ".join(rating.MODEL_CAP_COLUMNS) + ") where false"
        )
        conn.execute(
            f"create temp table {rating.USAGE_RELATION} as select 'pool' as account_id, "
            "cast(period || '-01' as date) as period, 'tokens' as metric, "
            "cast(quantity as decimal(38, 12)) as quantity, 0 as events from (values "
            + ", ".join(f"('{p}', {q})" for (a, p), q in POOL_USAGE.items() if a == "pool")
            + ") as u(period, quantity)"
        )
        rows = conn.execute(
            f"""
            select strftime(period, '%Y-%m'), pool_opening_units, pool_available_units,
                pool_overage_units, pool_expired_units, pool_closing_units, pool_alert_pct
            from ({sql}) as rated order by period
            """
        ).fetchall()
    # (opening, available, overage, expired, closing, alert) per month, from the replay above;
    # Jan: 50 of 100 used (50%: no alert); Feb: 110 of 120 (91.7%: 90); Mar: 150 of 110 (100);
    # Jun: 30 of 140 (21%: none); the new allotment keeps 20 of its 100 unused: 80 expire
    expected = [
        ("2025-01", 0, 100, 0, 30, 20, 0),
        ("2025-02", 20, 120, 0, 0, 10, 90),
        ("2025-03", 10, 110, 40, 0, 0, 100),
        ("2025-04", 0, 100, 0, 80, 20, 0),
        ("2025-05", 20, 120, 0, 80, 40, 0),
        ("2025-06", 40, 140, 0, 80, 30, 0),
    ]
    assert [(r[0], *(int(v) for v in r[1:])) for r in rows] == expected


def test_rate_reports_a_bad_period_with_the_file_name(sample_warehouse, tmp_path):
    usage = tmp_path / "usage.csv"
    usage.write_text("account_id,period,metric,quantity,events\na,2025/01,seats,1,\n")
    with pytest.raises(rating.RatingError, match=r"usage\.csv"):
        rating.rate(
            rating.default_price_book(),
            usage,
            sql=rating.rating_sql_from_warehouse(sample_warehouse),
        )


# ---- shadow billing on the sample warehouse ---------------------------------------------------

# The generator's injected billing errors and the reconciliation's name for each.
GAP_REASON_OF_ERROR = {
    "price_mismatch": "price_mismatch",
    "stale_quantity": "stale_quantity",
    "missed_proration": "missing_proration",
}


def test_current_model_reproduces_the_real_invoices_except_where_they_were_broken_or_drafted(
    sample_warehouse, sample_landing
):
    """The current per-seat model, rated like any proposal, equals what the real invoices charge
    for seats, platform fees and prorations (actual_usd: before tax, discounts and credits) in
    every account-month but two kinds, each named in gap_reason: those whose invoice the generator
    broke on purpose (a wrong price, a stale seat count, a dropped proration) and those whose bill
    is still a draft (the model bills the period; a draft is not billed yet).
    Regression: the shadow invoice used to be set against the whole subtotal, prorations and
    discounts included, so on the demo "Current per seat" read -3.9% (-5.4% enterprise, where
    annual plans prorate seat additions by the year) and failed its own guardrails."""
    manifest = json.loads((sample_landing / "_manifest.json").read_text())
    broken = {
        error["invoice_id"]: GAP_REASON_OF_ERROR[error["kind"]]
        for error in manifest["billing_errors"]
    }
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        expected: dict[tuple, set[str]] = {}
        for account, month, reason in conn.execute(
            """
            select account_id, cast(date_trunc('month', issued_at) as date), invoice_id
            from staging.stg_billing__invoices
            where list_contains(?, invoice_id) or status = 'draft'
            """,
            [list(broken)],
        ).fetchall():
            expected.setdefault((account, month), set()).add(broken.get(reason, "draft_invoice"))
        # A pilot account is billed under the hybrid from its switch (the month of its switch on,
        # while the current model still rates it per seat): its gap is the assigned model's.
        with (sample_landing / "price_model_assignments__billing.csv").open(newline="") as handle:
            switches = {
                row["account_id"]: row["effective_from"][:7] + "-01"
                for row in csv.DictReader(handle)
                if row["price_model_id"] != "current_per_seat"
            }
        for account, month in conn.execute(
            """
            select account_id, month from marts.fct_shadow_invoice
            where price_model_id = 'current_per_seat' and list_contains(?, account_id)
            """,
            [list(switches)],
        ).fetchall():
            if month >= date.fromisoformat(switches[account]) and (account, month) not in expected:
                expected[(account, month)] = {"billed_under_assigned_model"}
        assert any("billed_under_assigned_model" in reasons for reasons in expected.values())
        gaps = {
            (account, month): set(reason.split(", "))
            for account, month, reason in conn.execute(
                """
                select account_id, month, gap_reason from marts.fct_shadow_invoice
                where price_model_id = 'current_per_seat' and gap_reason is not null
                """
            ).fetchall()
        }
        (rated,) = conn.execute(
            "select count(*) from marts.fct_shadow_invoice "
            "where price_model_id = 'current_per_seat'"
        ).fetchall()[0]
    assert broken, "the sample should carry billing errors to find"
    assert any("draft_invoice" in reasons for reasons in expected.values())
    assert rated > 100
    assert gaps == expected


def test_rate_and_shadow_billing_give_the_same_lines_for_the_same_quantities(
    sample_warehouse, tmp_path
):
    """`seatshift rate` on the quantities shadow billing rated, under the shipped price book,
    gives every line of fct_shadow_invoice_lines to the 12th decimal."""
    usage = tmp_path / "usage.csv"
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        conn.execute(
            f"""
            copy (
                select account_id, strftime(month, '%Y-%m') as period, metric, quantity, events
                from marts.fct_rating_quantities
            ) to '{usage}' (header, delimiter ',')
            """
        )
        shadow = {
            (account, f"{month:%Y-%m}", model, component): amount
            for account, month, model, component, amount in conn.execute(
                """
                select account_id, month, price_model_id, component_id, amount_exact_usd
                from marts.fct_shadow_invoice_lines
                """
            ).fetchall()
        }
    rated = rating.rate(
        rating.default_price_book(), usage, sql=rating.rating_sql_from_warehouse(sample_warehouse)
    )
    assert {row[:4]: row[4] for row in rated} == shadow


def _shipped_price_book() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped price book's CSVs as the page's editor holds them: every cell text."""
    folder = rating.default_price_book()
    return (
        pd.read_csv(folder / "price_components.csv", dtype=str, keep_default_na=False),
        pd.read_csv(folder / "price_tiers.csv", dtype=str, keep_default_na=False),
    )


def _shipped_model_caps() -> pd.DataFrame:
    """The shipped models' own spend caps (price_models.csv), as text."""
    models = pd.read_csv(
        rating.default_price_book() / "price_models.csv", dtype=str, keep_default_na=False
    )
    return models[list(rating.MODEL_CAP_COLUMNS)]


def test_the_what_if_runner_rates_the_builds_quantities_as_shadow_billing_did(sample_warehouse):
    """The what-if's workspace (the build's quantities, its rating SQL) under the shipped price
    book gives every line of fct_shadow_invoice_lines, and its guardrails are the mart's."""
    workspace = rating.what_if_workspace(sample_warehouse)
    components, tiers = _shipped_price_book()
    model_caps = _shipped_model_caps()
    with workspace.connection.cursor() as cursor:
        rating.load_price_book_frames(cursor, components, tiers, model_caps)
        rating.rate_usage_into_lines(cursor, workspace.sql[rating.RATING_SQL_NAME])
        rated = cursor.execute(
            f"select account_id, period, price_model_id, component_id, amount"
            f" from {rating.LINES_RELATION}"
        ).fetchall()
    guardrails = rating.what_if(workspace, components, tiers, models=model_caps)["guardrails"]
    with duckdb.connect(str(sample_warehouse), read_only=True) as conn:
        shadow = conn.execute(
            """
            select account_id, month, price_model_id, component_id, amount_exact_usd
            from marts.fct_shadow_invoice_lines
            """
        ).fetchall()
        passing = conn.execute(
            "select price_model_id, segment, is_passing from marts.fct_price_model_guardrails"
        ).fetchall()
    assert {row[:4]: row[4] for row in rated} == {row[:4]: row[4] for row in shadow}
    assert {
        (model, segment, bool(is_passing))
        for model, segment, is_passing in guardrails[
            ["price_model_id", "segment", "is_passing"]
        ].itertuples(index=False)
    } == set(passing)


def assert_judged_as_built(judged: pd.DataFrame, warehouse: Path) -> None:
    """`judged` (a what-if's `trigger`) is the build's fct_migration_triggers, row for row."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        built = conn.execute(
            """
            select segment, month, price_model_id, window_months, billed_account_months,
                shocked_account_months, shadow_usd, actual_usd, shadow_bill_shock_rate,
                revenue_delta_pct, is_proposal_viable, proposal_failure_reason, is_triggered,
                triggered_since, segment_status
            from marts.fct_migration_triggers
            order by segment, month, price_model_id
            """
        ).df()
    assert len(built) > 0
    money = {"shadow_usd": float, "actual_usd": float}
    pd.testing.assert_frame_equal(
        judged[list(built.columns)].reset_index(drop=True).astype(money),
        built.astype(money),
        check_dtype=False,
        rtol=1e-12,
    )


def _judged_as_the_trigger_did(warehouse: Path) -> None:
    """The what-if's migration trigger (the build's trailing shadow windows and verdict SQL over
    the re-rated bills) under the shipped price book: fct_migration_triggers, row for row."""
    workspace = rating.what_if_workspace(warehouse)
    components, tiers = _shipped_price_book()
    judged = rating.what_if(workspace, components, tiers, models=_shipped_model_caps())["trigger"]
    assert_judged_as_built(judged, warehouse)


def test_the_what_if_judges_the_shipped_book_as_the_trigger_did(generated_warehouse):
    _judged_as_the_trigger_did(generated_warehouse)


@pytest.mark.scale
def test_the_what_if_judges_as_the_trigger_did_on_a_thousand_account_company(
    thousand_account_warehouse,
):
    _judged_as_the_trigger_did(thousand_account_warehouse)


def test_the_what_if_runner_says_why_a_price_book_cannot_be_rated(sample_warehouse):
    workspace = rating.what_if_workspace(sample_warehouse)
    components, tiers = _shipped_price_book()
    components.loc[components["component_id"] == "seats", "unit_amount"] = "ten dollars"
    with pytest.raises(rating.RatingError, match="ten dollars"):
        rating.what_if(workspace, components, tiers)


def test_the_rating_runner_needs_no_streamlit():
    # The CLI and the orchestration import it: the dashboard's framework must stay on its side.
    code = "import sys, orchestration.lib.rating; print('streamlit' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert completed.stdout.strip() == "False"
