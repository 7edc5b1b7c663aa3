"""Usage events delivered as CloudEvents JSON lines (the envelope OpenMeter and other metering
pipelines send), mapped into the contract's usage columns by the default mapping or the landing
folder's `_cloudevents.yml`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.orchestration.test_ingest import load_all, quarantine, reference_files


def cloudevent(event_id: str, subject: str, time: str, **data) -> dict:
    """A CloudEvent in JSON format (spec 1.0): the required attributes, then `data`."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "//meter.example/ingest",
        "type": "com.example.usage.recorded",
        "subject": subject,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


AGENT = {"actor_type": "agent", "agent_id": "ag-1", "feature": "chat", "model": "small"}
HUMAN = {"actor_type": "human", "user_id": "u-1", "feature": "search", "model": "large"}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    reference_files(folder)  # accounts a1 and a2
    return folder


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def _usage(conn) -> list[tuple]:
    return conn.execute(
        """select event_id, account_id, actor_type, coalesce(user_id, agent_id),
            strftime(occurred_at, '%Y-%m-%d %H:%M'), feature, model, input_tokens, output_tokens,
            tasks, outcome, _extra ->> 'cloudevents_type', _extra ->> 'region'
        from telemetry.usage_events order by event_id"""
    ).fetchall()


def test_a_cloudevent_becomes_a_usage_event_by_the_default_mapping(conn, landing):
    write_jsonl(
        landing / "usage_events__meter.jsonl",
        [
            cloudevent(
                "ce-1",
                "a1",
                "2025-01-05T10:00:00Z",
                **AGENT,
                input_tokens=120,
                output_tokens=30,
                tasks=2,
                outcome="resolved",
            ),
            cloudevent("ce-2", "a2", "2025-01-05T11:00:00+01:00", **HUMAN, region="eu"),
            # a plain usage event beside them, in the contract's own columns
            {
                "event_id": "plain-1",
                "account_id": "a1",
                "occurred_at": "2025-01-06T00:00:00Z",
                **HUMAN,
            },
        ],
    )

    report = load_all(conn, landing)["usage_events__meter.jsonl"]

    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 3, 0)
    assert _usage(conn) == [
        ("ce-1", "a1", "agent", "ag-1", "2025-01-05 10:00", "chat", "small", 120, 30, 2,
         "resolved", "com.example.usage.recorded", None),
        # 11:00 at +01:00 is 10:00 UTC; tokens default to 0 and tasks to 1 when absent
        ("ce-2", "a2", "human", "u-1", "2025-01-05 10:00", "search", "large", 0, 0, 1, None,
         "com.example.usage.recorded", "eu"),
        ("plain-1", "a1", "human", "u-1", "2025-01-06 00:00", "search", "large", 0, 0, 1, None,
         None, None),
    ]  # fmt: skip


def test_a_cloudevent_breaking_a_rule_is_quarantined_as_it_came(conn, landing):
    event = cloudevent("ce-9", "nobody", "2025-01-05T10:00:00Z", **HUMAN)
    write_jsonl(landing / "usage_events__meter.jsonl", [event])

    load_all(conn, landing)

    [(file_name, row_number, rule, raw_record, _)] = quarantine(conn)
    assert (file_name, row_number, rule) == ("usage_events__meter.jsonl", 1, "unknown_account")
    assert json.loads(raw_record) == event


def test_the_landing_folders_mapping_names_where_a_column_comes_from(conn, landing):
    (landing / "_cloudevents.yml").write_text(
        "# the account is the tenant in data; the event id is ours\n"
        "account_id: data.tenant.id\n"
        "event_id: id\n",
        encoding="utf-8",
    )
    write_jsonl(
        landing / "usage_events__meter.jsonl",
        [cloudevent("ce-1", "someone-else", "2025-01-05T10:00:00Z", tenant={"id": "a2"}, **AGENT)],
    )

    load_all(conn, landing)

    assert [row[:2] for row in _usage(conn)] == [("ce-1", "a2")]


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        ("account: subject\n", "'account' is not a usage_events column"),
        ("account_id: customer\n", "'customer' is neither a CloudEvents attribute"),
        ("account_id: [subject\n", "is not valid YAML"),
    ],
)
def test_a_mapping_that_cannot_be_followed_rejects_the_file_saying_why(
    conn, landing, mapping, said
):
    (landing / "_cloudevents.yml").write_text(mapping, encoding="utf-8")
    write_jsonl(
        landing / "usage_events__meter.jsonl",
        [cloudevent("ce-1", "a1", "2025-01-05T10:00:00Z", **AGENT)],
    )

    report = load_all(conn, landing)["usage_events__meter.jsonl"]

    assert report.status == "rejected"
    assert said in report.message
