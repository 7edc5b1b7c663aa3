"""The paper invoice (`seatshift paper-invoice`), against the real sample warehouse: a pilot
account's old and new invoice of its latest billed month, whose totals equal fct_shadow_invoice
(actual_usd, shadow_usd) and whose lines add up to those totals, in one file that loads nothing
from anywhere."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from tests.dashboards._support import published_warehouse

SEATSHIFT = Path(sys.executable).with_name("seatshift")


class _Figures(HTMLParser):
    """The data-total and data-line figures the paper invoice tags its amounts with."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, Decimal] = {}
        self.lines: dict[str, list[Decimal]] = {"actual": [], "shadow": []}
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-total" in found and "data-value" in found:
            self.totals[str(found["data-total"])] = Decimal(str(found["data-value"]))
        if "data-line" in found:
            self.lines[str(found["data-line"])].append(Decimal(str(found["data-value"])))
        if tag in ("script", "link", "img", "iframe") or "src" in found or "href" in found:
            self.external.append(tag)


@pytest.fixture
def sample(request: pytest.FixtureRequest) -> Path:
    return published_warehouse(request)


def test_paper_invoice_of_a_pilot_account_matches_the_shadow_invoice(sample, tmp_path):
    with duckdb.connect(str(sample), read_only=True) as conn:
        # the pilot list's best eligible USD account under some proposal: its lines are in USD,
        # so they must add up to the totals exactly
        account_id, price_model_id = conn.execute(
            """
            select pilots.account_id, pilots.price_model_id
            from marts.fct_pilot_accounts as pilots
            inner join marts.dim_accounts as accounts on pilots.account_id = accounts.account_id
            where pilots.is_pilot_eligible and accounts.currency = 'USD'
            order by pilots.fit_rank, pilots.price_model_id, pilots.account_id
            limit 1
            """
        ).fetchone()
        month, actual_usd, shadow_usd = conn.execute(
            """
            select month, actual_usd, shadow_usd from marts.fct_shadow_invoice
            where account_id = ? and price_model_id = ? and actual_usd > 0
            order by month desc limit 1
            """,
            [account_id, price_model_id],
        ).fetchone()
    result = subprocess.run(
        [str(SEATSHIFT), "paper-invoice", "--account", account_id, "--price-model",
         price_model_id, "--out", str(tmp_path), "--warehouse", str(sample)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = list(tmp_path.glob("*.html"))
    assert [path.name for path in written] == [
        f"seatshift_paper_invoice_{account_id}_{price_model_id}_{month:%Y-%m}.html"
    ]
    html = written[0].read_text(encoding="utf-8")
    figures = _Figures()
    figures.feed(html)
    assert figures.totals["actual_usd"] == Decimal(actual_usd)
    assert figures.totals["shadow_usd"] == Decimal(shadow_usd)
    assert sum(figures.lines["actual"]) == Decimal(actual_usd)
    assert sum(figures.lines["shadow"]) == Decimal(shadow_usd)
    assert figures.lines["shadow"], "the new invoice lists the model's components"
    assert figures.external == []
    assert "http://" not in html and "https://" not in html


def test_paper_invoice_says_why_when_the_account_has_no_invoice(sample, tmp_path):
    result = subprocess.run(
        [str(SEATSHIFT), "paper-invoice", "--account", "no_such_account", "--price-model",
         "per_token", "--out", str(tmp_path), "--warehouse", str(sample)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no_such_account" in result.stderr
    assert not list(tmp_path.glob("*.html"))
