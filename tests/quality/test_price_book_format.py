"""The price-book format check the what-if runs before it re-rates anything
(orchestration.lib.price_book): the shipped book passes, and each kind of break is named by table,
row and column. Cases worked by hand from the format in docs/price-book.md."""

from __future__ import annotations

import pandas as pd

from orchestration.lib import price_book, settings

BOOK = settings.dbt_project_dir() / "seeds" / "price_book"


def _shipped() -> tuple[pd.DataFrame, pd.DataFrame]:
    read = {"dtype": str, "keep_default_na": False}
    return (
        pd.read_csv(BOOK / "price_components.csv", **read),
        pd.read_csv(BOOK / "price_tiers.csv", **read),
    )


def _hybrid() -> tuple[pd.DataFrame, pd.DataFrame]:
    components, tiers = _shipped()
    model = components["price_model_id"] == "hybrid_seat_plus_tokens"
    return components[model].reset_index(drop=True), tiers.iloc[0:0]


def _found(components, tiers) -> list[tuple[str, int, str]]:
    return [(p.table, p.row, p.column) for p in price_book.problems(components, tiers)]


def _models() -> pd.DataFrame:
    return pd.read_csv(BOOK / "price_models.csv", dtype=str, keep_default_na=False)


def test_the_shipped_price_book_is_valid():
    assert price_book.problems(*_shipped()) == []
    assert price_book.problems(*_shipped(), _models()) == []


def test_how_a_proposal_is_offered_is_replacement_option_or_empty_and_never_the_current_model():
    models = _models()
    # the shipped book offers one proposal as an option beside the seats
    assert "option" in set(models["offered_as"])
    models["offered_as"] = ""  # empty everywhere: every proposal replaces the current model
    assert price_book.model_problems(models) == []
    rows = {model: position for position, model in enumerate(models["price_model_id"], start=1)}
    models.loc[models["price_model_id"] == "per_token", "offered_as"] = "beside"
    models.loc[models["price_model_id"] == "current_per_seat", "offered_as"] = "option"
    found = price_book.model_problems(models)
    assert [(p.table, p.row, p.column) for p in found] == [
        ("models", rows["current_per_seat"], "offered_as"),
        ("models", rows["per_token"], "offered_as"),
    ]
    assert "'beside' is not how a proposal is offered" in str(found[1])
    assert "cannot be offered as one" in str(found[0])


def test_a_price_typed_into_the_unit_size_is_named_and_a_negative_price_too():
    components, tiers = _hybrid()
    # the hybrid's rows, by component id: platform (1), seats (2), tokens (3)
    components.loc[components["component_id"] == "tokens", "unit_size"] = "0.00003"
    components.loc[components["component_id"] == "seats", "unit_amount"] = "-119"
    components.loc[components["component_id"] == "platform", "flat_amount"] = "ninety-nine"
    found = _found(components, tiers)
    assert ("components", 3, "unit_size") in found
    assert ("components", 2, "unit_amount") in found
    assert ("components", 1, "flat_amount") in found
    messages = [str(problem) for problem in price_book.problems(components, tiers)]
    assert any("0.00003 is not a whole number of units" in message for message in messages)


def test_an_unknown_charge_model_or_metric_and_a_percent_beyond_100_are_named():
    components, tiers = _hybrid()
    components.loc[0, "charge_model"] = "per_vibe"
    components.loc[1, "metric"] = "happiness"
    components.loc[2, "rate_pct"] = "140"
    found = _found(components, tiers)
    assert ("components", 1, "charge_model") in found
    assert ("components", 2, "metric") in found
    assert ("components", 3, "rate_pct") in found


def test_tiers_must_run_from_one_with_rising_bounds_and_an_open_last_tier():
    components, tiers = _shipped()
    graduated = components["component_id"] == "resolutions"
    components = components[graduated].reset_index(drop=True)
    tiers = tiers[tiers["component_id"] == "resolutions"].reset_index(drop=True)
    assert price_book.problems(components, tiers) == []
    falling = tiers.copy()
    falling.loc[1, "up_to"] = "500"  # tier 2 up to 500 after tier 1 up to 1,000
    assert ("tiers", 1, "up_to") in _found(components, falling)
    closed = tiers.copy()
    closed.loc[2, "up_to"] = "50000"  # the last tier needs no bound
    assert ("tiers", 3, "up_to") in _found(components, closed)
    gap = tiers.copy()
    gap.loc[2, "tier"] = "4"  # 1, 2, 4
    assert ("tiers", 3, "tier") in _found(components, gap)
    assert any(
        "needs tiers" in str(problem) for problem in price_book.problems(components, tiers[:0])
    )
