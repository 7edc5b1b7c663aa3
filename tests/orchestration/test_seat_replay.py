"""Seat blame (the seat_events export): the replay runs in effective order (ties by recorded_at,
then event_id) and quarantines only the event whose own application takes the balance below zero.

Real DuckDB files and real files on disk; each case's balance is worked by hand in a comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.generator import generate
from orchestration.lib.loader.cross_row import SeatEvent, replay_blame
from tests.orchestration.test_ingest import load_all, quarantine, reference_files, row, write_csv


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    reference_files(folder)  # subscription s1 of account a1
    return folder


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def seat(event_id: str, event_type: str, quantity: int, effective: str, **extra: str):
    """A seat event of s1 effective at midnight of `effective`; recorded then unless given."""
    return row(
        "seat_events",
        event_id=event_id,
        event_type=event_type,
        quantity=str(quantity),
        effective_at=f"{effective}T00:00:00Z",
        recorded_at=extra.pop("recorded", f"{effective}T00:00:00Z"),
        **extra,
    )


def load_first_refresh(conn, landing: Path, removed: int) -> None:
    """Refresh r1 loads: 2 seats added Jan 1, `removed` removed Mar 1 (event rem<removed>)."""
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add2", "seat_added", 2, "2025-01-01"),
            seat(f"rem{removed}", "seat_removed", removed, "2025-03-01"),
        ],
    )
    load_all(conn, landing, "r1")


def blamed(conn) -> list[str]:
    return [json.loads(entry[3])["event_id"] for entry in quarantine(conn)]


def loaded(conn) -> list[str]:
    rows = conn.execute("select event_id from entitlements.seat_events order by 1").fetchall()
    return [event_id for (event_id,) in rows]


def test_only_the_removal_that_goes_below_zero_is_blamed_not_a_later_recorded_genuine_one(
    conn, landing
):
    # The seed-11 case in small: 47 seats; a genuine removal of 2 effective on the 8th but
    # recorded on the 13th; a bogus removal of 100,000 effective and recorded on the 11th.
    # Effective order: 47 -> 45 (genuine) -> -99,955 (bogus: blamed) -> the replay goes on
    # without it: the later removal of 5 leaves 40.
    write_csv(
        landing / "seat_events__ledger.csv",
        [
            seat("add47", "seat_added", 47, "2025-12-01"),
            seat("bogus", "seat_removed", 100_000, "2025-12-11"),
            seat("genuine", "seat_removed", 2, "2025-12-08", recorded="2025-12-13T21:10:52Z"),
            seat("later", "seat_removed", 5, "2025-12-20"),
        ],
    )

    reports = load_all(conn, landing)

    assert blamed(conn) == ["bogus"]
    assert [entry[2] for entry in quarantine(conn)] == ["seats_below_zero"]
    assert reports["seat_events__ledger.csv"].rows_loaded == 3
    assert loaded(conn) == ["add47", "genuine", "later"]


def test_events_at_one_instant_replay_by_recorded_at_then_event_id(conn, landing):
    # All effective on Feb 1. Recorded order: r_first (remove 1) before a_second (add 1), so
    # the removal comes first and finds 0 seats: blamed. Between x_rem and y_add, recorded
    # together, the event id decides: x_rem first, blamed too.
    write_csv(
        landing / "seat_events__instant.csv",
        [
            seat("a_second", "seat_added", 1, "2025-02-01", recorded="2025-02-01T10:00:00Z"),
            seat("r_first", "seat_removed", 1, "2025-02-01", recorded="2025-02-01T09:00:00Z"),
            seat("y_add", "seat_added", 1, "2025-03-01", recorded="2025-03-01T09:00:00Z"),
            seat("x_rem", "seat_removed", 2, "2025-03-01", recorded="2025-03-01T09:00:00Z"),
        ],
    )

    load_all(conn, landing)

    # Feb 1: r_first at 0 - 1 < 0: blamed; a_second: 1. Mar 1: x_rem at 1 - 2 < 0: blamed; y_add: 2.
    assert blamed(conn) == ["r_first", "x_rem"]


def test_a_back_dated_removal_saved_by_a_new_add_before_the_loaded_removal_loads(conn, landing):
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add2", "seat_added", 2, "2025-01-01"),
            seat("rem2", "seat_removed", 2, "2025-03-01"),
        ],
    )
    load_all(conn, landing, "r1")
    # Replay: Jan 1: 2; Feb 1 (back-dated, new): 1; Feb 15 (new add): 2; Mar 1 (loaded): 0.
    write_csv(
        landing / "seat_events__2.csv",
        [
            seat("late", "seat_removed", 1, "2025-02-01", recorded="2025-04-01T00:00:00Z"),
            seat("add1", "seat_added", 1, "2025-02-15", recorded="2025-04-01T00:00:00Z"),
        ],
    )

    reports = load_all(conn, landing, "r2")

    assert blamed(conn) == []
    assert reports["seat_events__2.csv"].rows_loaded == 2


def test_a_bogus_removal_is_blamed_not_the_back_dated_one_it_makes_look_guilty(conn, landing):
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add2", "seat_added", 2, "2025-01-01"),
            seat("rem1", "seat_removed", 1, "2025-03-01"),
        ],
    )
    load_all(conn, landing, "r1")
    # Replay: Jan 1: 2; Feb 1 late removal: 1; Feb 20 bogus removal of 5: 1 - 5 < 0, blamed;
    # Mar 1 (loaded): 0. Without the bogus one, the late removal harms nobody.
    write_csv(
        landing / "seat_events__2.csv",
        [
            seat("late", "seat_removed", 1, "2025-02-01", recorded="2025-04-01T00:00:00Z"),
            seat("bogus", "seat_removed", 5, "2025-02-20"),
        ],
    )

    load_all(conn, landing, "r2")

    assert blamed(conn) == ["bogus"]


def test_each_back_dated_removal_that_would_take_a_loaded_removal_below_zero_is_blamed(
    conn, landing
):
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add2", "seat_added", 2, "2025-01-01"),
            seat("rem2", "seat_removed", 2, "2025-03-01"),
        ],
    )
    load_all(conn, landing, "r1")
    # Either late removal alone leaves the loaded Mar 1 removal at 2 - 1 - 2 = -1: both blamed,
    # and the loaded events stay.
    write_csv(
        landing / "seat_events__2.csv",
        [
            seat("late1", "seat_removed", 1, "2025-02-01", recorded="2025-04-01T00:00:00Z"),
            seat("late2", "seat_removed", 1, "2025-02-02", recorded="2025-04-01T00:00:00Z"),
        ],
    )

    load_all(conn, landing, "r2")

    assert blamed(conn) == ["late1", "late2"]
    assert loaded(conn) == ["add2", "rem2"]


def test_a_correction_is_judged_from_the_voided_event_on(conn, landing):
    # add3 Jan 1, add2 Jan 2: 5; rem4 Jan 15: 1; add5 Jan 20: 6. Voiding add2 on Feb 1 leaves
    # 6 - 2 = 4 on Feb 1, but reaches back: Jan 15 would be 3 - 4 = -1. Blamed.
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add3", "seat_added", 3, "2025-01-01"),
            seat("add2", "seat_added", 2, "2025-01-02"),
            seat("rem4", "seat_removed", 4, "2025-01-15"),
            seat("add5", "seat_added", 5, "2025-01-20"),
            seat("fix2", "correction", 1, "2025-02-01", corrects_event_id="add2"),
        ],
    )

    load_all(conn, landing)

    assert blamed(conn) == ["fix2"]


def test_a_correction_of_a_removal_gives_seats_back_and_is_never_blamed(conn, landing):
    # add1 Jan 1: 1; rem1 Jan 2: 0; voiding rem1 on Jan 3 gives the seat back; rem1b Jan 4: 0.
    write_csv(
        landing / "seat_events__1.csv",
        [
            seat("add1", "seat_added", 1, "2025-01-01"),
            seat("rem1", "seat_removed", 1, "2025-01-02"),
            seat("fix", "correction", 1, "2025-01-03", corrects_event_id="rem1"),
            seat("rem1b", "seat_removed", 1, "2025-01-04"),
        ],
    )

    load_all(conn, landing)

    assert blamed(conn) == []


def test_replay_blame_by_itself():
    def event(event_id: str, delta: int, loaded: bool = False, voids: str | None = None):
        return SeatEvent(None if loaded else int(event_id[1:]), event_id, delta, voids)

    # e1 +2 (loaded), e2 -1 (new), e3 -3 (new: 1 - 3 < 0), e4 -1 (loaded: 1 - 1 = 0).
    assert replay_blame(
        [event("e1", 2, True), event("e2", -1), event("e3", -3), event("e4", -1, True)]
    ) == [3]
    # A correction (e3) voiding a later new add (e4) before its turn: e4 moves nothing, and
    # the loaded removal e5 then finds 1 - 2 < 0, so the correction is blamed.
    assert replay_blame(
        [
            event("e1", 1, True),
            event("e3", 0, voids="e4"),
            event("e4", 1),
            event("e5", -2, True),
        ]
    ) == [3]


def test_on_a_generated_company_only_the_injected_event_is_blamed(tmp_path):
    # Found on a 400-account company, seed 11, the genuine removal se_00001_0004 (2 of 47
    # seats, effective 2025-12-08, recorded five days later) was quarantined beside the injected
    # se_q_0004 (remove 100,000). The seat ledger does not depend on the usage rate, so a tiny
    # one keeps the company quick to generate.
    landing = tmp_path / "landing"
    manifest = generate(landing, accounts=400, seed=11, usage_per_seat_day=0.001)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        load_all(connection, landing, "20261122T090000Z-0a1b2c3d")
        quarantined = connection.execute(
            "select file_name, row_number, rule from audit.quarantine"
        ).fetchall()
        seat_blamed = connection.execute(
            """select json_extract_string(raw_record, '$.event_id') from audit.quarantine
            where rule = 'seats_below_zero'"""
        ).fetchall()
        genuine = connection.execute(
            "select quantity from entitlements.seat_events where event_id = 'se_00001_0004'"
        ).fetchall()

    expected = {(bad["file"], bad["row_number"], bad["rule"]) for bad in manifest["bad_rows"]}
    assert sorted(quarantined) == sorted(expected)  # the loader finds exactly what was injected
    assert seat_blamed == [("se_q_0004",)]
    assert genuine == [(2,)]
