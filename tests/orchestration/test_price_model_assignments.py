"""The price model assignments export at load time: overlaps between one account's periods, the
price book as the list of known models, snapshot versions that end an assignment to make room
for the next, and a landing folder without the export."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.lib.contract.rules import PRICE_BOOK_MODELS_TABLE
from tests.orchestration.test_ingest import (
    load_all,
    quarantine,
    reference_files,
    row,
    table_fingerprints,
    write_csv,
)


def assignment(assignment_id: str, starts: str, ends: str = "", **changes: str) -> dict:
    """An assignment of account a1 from the first of month `starts` (`YYYY-MM`) to `ends`."""
    return row(
        "price_model_assignments",
        assignment_id=assignment_id,
        effective_from=f"{starts}-01T00:00:00Z",
        effective_to=f"{ends}-01T00:00:00Z" if ends else "",
        **changes,
    )


def loaded_assignments(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        """select assignment_id, strftime(effective_from, '%Y-%m'),
            coalesce(strftime(effective_to, '%Y-%m'), '')
        from billing.price_model_assignments order by assignment_id, updated_at"""
    ).fetchall()


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing"
    folder.mkdir()
    reference_files(folder)
    return folder


def test_of_an_overlapping_pair_the_later_starting_assignment_is_quarantined_and_counted(
    conn, landing
):
    rows = [
        assignment("b_mar", "2025-03"),  # open-ended from March: overlaps a_feb, starts later
        assignment("a_feb", "2025-02", "2025-04"),  # February up to April
        assignment("c_jan", "2025-01", "2025-02"),  # ends where a_feb starts: touches, no overlap
        assignment("d_other", "2025-03", account_id="a2"),  # another account: nothing to overlap
    ]
    write_csv(landing / "price_model_assignments__1.csv", rows)

    reports = load_all(conn, landing)

    # 4 read = 3 loaded + 0 duplicates + 1 quarantined (b_mar, row 1 of the file).
    report = reports["price_model_assignments__1.csv"]
    counts = (report.rows_read, report.rows_loaded, report.rows_duplicate, report.rows_quarantined)
    assert counts == (4, 3, 0, 1)
    [(_, row_number, rule, raw_record, rules)] = quarantine(conn)
    assert (row_number, rule, rules) == (1, "overlapping_assignment", ["overlapping_assignment"])
    assert json.loads(raw_record) == rows[0]
    assert [entry[0] for entry in loaded_assignments(conn)] == ["a_feb", "c_jan", "d_other"]


def test_equal_starts_quarantine_the_greater_assignment_id(conn, landing):
    write_csv(
        landing / "price_model_assignments__1.csv",
        [assignment("z", "2025-02"), assignment("y", "2025-02")],
    )

    load_all(conn, landing)

    assert [(entry[1], entry[2]) for entry in quarantine(conn)] == [(1, "overlapping_assignment")]
    assert [entry[0] for entry in loaded_assignments(conn)] == ["y"]


def test_a_newer_version_that_ends_an_assignment_makes_room_for_the_next_in_the_same_file(
    conn, landing
):
    # Refresh 1: a1 under the current model from February, open-ended.
    write_csv(
        landing / "price_model_assignments__1.csv",
        [assignment("current", "2025-02", price_model_id="current_per_seat", cohort="")],
    )
    load_all(conn, landing, "r1")
    # Refresh 2: the pilot from May, delivered before the version that ends `current`: it
    # overlaps a loaded assignment, so it is quarantined and the loaded one stays as it was.
    write_csv(landing / "price_model_assignments__2.csv", [assignment("pilot", "2025-05")])
    load_all(conn, landing, "r2")
    assert [(entry[0], entry[2]) for entry in quarantine(conn)] == [
        ("price_model_assignments__2.csv", "overlapping_assignment")
    ]
    # Refresh 3: the billing system ends `current` at May and delivers the pilot again.
    ended = assignment(
        "current",
        "2025-02",
        "2025-05",
        price_model_id="current_per_seat",
        cohort="",
        updated_at="2025-04-20T00:00:00Z",
    )
    write_csv(landing / "price_model_assignments__3.csv", [assignment("pilot", "2025-05"), ended])

    reports = load_all(conn, landing, "r3")

    assert reports["price_model_assignments__3.csv"].rows_loaded == 2
    assert reports["price_model_assignments__3.csv"].rows_quarantined == 0
    assert loaded_assignments(conn) == [
        ("current", "2025-02", ""),  # the first version, kept: the latest wins downstream
        ("current", "2025-02", "2025-05"),
        ("pilot", "2025-05", ""),
    ]


def test_a_new_assignment_that_overlaps_a_loaded_later_one_is_the_one_quarantined(conn, landing):
    write_csv(landing / "price_model_assignments__1.csv", [assignment("later", "2025-05")])
    load_all(conn, landing, "r1")
    # Starts earlier and runs into `later`: the loaded row stays, the new one is blamed.
    write_csv(
        landing / "price_model_assignments__2.csv", [assignment("earlier", "2025-03", "2025-06")]
    )

    load_all(conn, landing, "r2")

    assert [(entry[0], entry[2]) for entry in quarantine(conn)] == [
        ("price_model_assignments__2.csv", "overlapping_assignment")
    ]
    assert [entry[0] for entry in loaded_assignments(conn)] == ["later"]


def test_a_quarantined_version_makes_no_room_the_older_version_is_judged_instead(conn, landing):
    # Loaded: `a` February-April, `c` from April on.
    write_csv(
        landing / "price_model_assignments__1.csv",
        [assignment("a", "2025-02", "2025-04"), assignment("c", "2025-04")],
    )
    load_all(conn, landing, "r1")
    # A newer `a` moved to March-May would make room for `b` (January-March), but it runs into
    # loaded `c`: it is quarantined, `a` stays February-April, and `b` overlaps that version.
    moved = assignment("a", "2025-03", "2025-05", updated_at="2025-02-20T00:00:00Z")
    write_csv(
        landing / "price_model_assignments__2.csv",
        [moved, assignment("b", "2025-01", "2025-03", updated_at="2025-02-20T00:00:00Z")],
    )

    load_all(conn, landing, "r2")

    # Round 1 blames the moved `a` (row 1; it overlaps loaded `c`); `b` (January-March) does not
    # overlap the moved `a` (March-May). Round 2 judges `b` against the loaded `a`
    # (February-April), already loaded: `b` is blamed too (row 2).
    assert [(entry[1], entry[2]) for entry in quarantine(conn)] == [
        (1, "overlapping_assignment"),
        (2, "overlapping_assignment"),
    ]
    assert loaded_assignments(conn) == [("a", "2025-02", "2025-04"), ("c", "2025-04", "")]


def test_a_clean_file_loads_and_loading_it_again_changes_nothing(conn, landing):
    write_csv(
        landing / "price_model_assignments__pilot.csv",
        [
            assignment("p1", "2025-02", cohort="pilot"),
            assignment(
                "c1",
                "2025-02",
                account_id="a2",
                price_model_id="current_per_seat",
                cohort="control",
            ),
        ],
    )
    first = load_all(conn, landing, "r1")
    assert first["price_model_assignments__pilot.csv"].rows_loaded == 2
    before = table_fingerprints(conn)

    again = load_all(conn, landing, "r2")

    assert again["price_model_assignments__pilot.csv"].status == "skipped_already_loaded"
    assert table_fingerprints(conn) == before


def test_a_file_without_effective_to_loads_every_assignment_as_open_ended(conn, landing):
    header = [name for name in row("price_model_assignments") if name != "effective_to"]
    write_csv(landing / "price_model_assignments__short.csv", [assignment("p1", "2025-02")], header)

    reports = load_all(conn, landing)

    assert reports["price_model_assignments__short.csv"].rows_loaded == 1
    assert loaded_assignments(conn) == [("p1", "2025-02", "")]


def test_the_known_models_are_the_price_books_and_a_folder_without_the_export_loads_as_before(
    conn, landing
):
    reports = load_all(conn, landing)

    assert not [name for name in reports if name.startswith("price_model_assignments")]
    assert conn.execute("select count(*) from billing.price_model_assignments").fetchone() == (0,)
    models = {
        model for (model,) in conn.execute(f"select * from {PRICE_BOOK_MODELS_TABLE}").fetchall()
    }
    # The committed price book: the current model and the five proposals.
    assert models == {
        "current_per_seat",
        "per_token",
        "per_outcome_with_seat_fee",
        "hybrid_seat_plus_tokens",
        "credits_by_feature",
        "prepaid_token_pool",
    }
