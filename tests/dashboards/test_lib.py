"""Pure helpers of the dashboard: formatting, schedule and staleness rules, chart colours."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest

from orchestration.lib.settings import DASHBOARD_ENTRYPOINT

sys.path.insert(0, str(DASHBOARD_ENTRYPOINT.parent))  # the pages import `lib` from there too

from lib import charts
from lib.format import ago, count, money, percent, pretty_json, timestamp
from lib.freshness import is_stale, next_daily_run


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_234_567, "$1.2M"),
        (999_960, "$1.0M"),  # rounds into the next unit, never "$1,000.0K"
        (12_345, "$12.3K"),
        (950, "$950"),
        (12.5, "$12.50"),
        (-2_500, "-$2.5K"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_money_reads_like_a_person_writes_it(value, expected):
    assert money(value) == expected


def test_percent_and_count_read_like_a_person_writes_them():
    assert percent(0.974) == "97.4%"
    assert percent(1.05) == "105.0%"  # ratios are fractions: 1.05 means 105%
    assert count(1204) == "1,204"
    assert count(None) == "—"


def test_timestamps_are_shown_in_utc_whatever_offset_they_arrive_with():
    assert timestamp("2026-03-15T08:01:00+02:00") == "2026-03-15 06:01 UTC"
    assert timestamp(datetime(2026, 3, 15, 6, 1)) == "2026-03-15 06:01 UTC"  # naive means UTC


def test_ago_names_the_largest_whole_unit_in_both_directions():
    now = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    assert ago(now - timedelta(hours=3, minutes=59), now) == "3 hours ago"
    assert ago(now + timedelta(days=1), now) == "in 1 day"
    assert ago(now, now) == "just now"


def test_a_raw_record_is_indented_and_non_json_is_shown_as_delivered():
    assert pretty_json('{"a": 1}') == '{\n  "a": 1\n}'
    assert pretty_json("not json") == "not json"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 15, 5, 59, tzinfo=UTC), datetime(2026, 3, 15, 6, 0, tzinfo=UTC)),
        (datetime(2026, 3, 15, 6, 0, tzinfo=UTC), datetime(2026, 3, 16, 6, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_the_next_daily_run_is_strictly_after_now(now, expected):
    assert next_daily_run("0 6 * * *", now) == expected


def test_a_cron_that_is_not_daily_is_refused_rather_than_misread():
    with pytest.raises(ValueError, match="daily"):
        next_daily_run("0 6 * * 1", datetime(2026, 3, 15, tzinfo=UTC))


def test_data_is_stale_only_when_more_than_two_days_older_than_the_refresh():
    refreshed_at = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)
    assert not is_stale(refreshed_at - timedelta(days=2), refreshed_at)
    assert is_stale(refreshed_at - timedelta(days=2, seconds=1), refreshed_at)
    assert not is_stale(None, refreshed_at)


def test_a_category_keeps_its_colour_whatever_order_the_data_arrives_in():
    assert charts.color_map(["usage_events", "accounts"]) == charts.color_map(
        ["accounts", "usage_events"]
    )
    assert len(set(charts.OKABE_ITO)) == len(charts.OKABE_ITO)
