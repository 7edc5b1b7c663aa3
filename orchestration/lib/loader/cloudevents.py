"""Usage events as CloudEvents: a metering pipeline's envelope (OpenMeter and others send usage
this way), read from a `usage_events__*.jsonl` file line by line.

A line that is a CloudEvent (it has `specversion`) becomes a usage event by a small mapping: each
contract column from a CloudEvents attribute (`id`, `source`, `type`, `subject`, `time`) or from a
path into its `data` (`data.customer.id`); every column the mapping does not name comes from
`data.<column>`. The default mapping:

    event_id: id
    occurred_at: time
    account_id: subject

Another mapping is a note beside the files, `_cloudevents.yml` in the landing folder (a note: the
loader never loads it), holding only the columns that differ, e.g. `account_id: data.tenant_id`.
The event's `source` and `type` are kept in the row's `_extra`, with every key of `data` the
contract does not know; a column neither the mapping nor `data` holds is empty (so a file of
CloudEvents is never short of a column); the quarantine keeps the CloudEvent as it came.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.lib.contract import EXPORTS
from orchestration.lib.loader.sql import FileRejected, literal

MAPPING_FILE = "_cloudevents.yml"
DEFAULT_MAPPING = {"event_id": "id", "occurred_at": "time", "account_id": "subject"}
ATTRIBUTES = ("id", "source", "type", "subject", "time", "specversion", "datacontenttype")
EXPORT = "usage_events"  # the export whose files may hold CloudEvents
_DATA_PATH = re.compile(r"data(\.[A-Za-z_][A-Za-z0-9_]*)+")


def mapping(landing: Path) -> dict[str, str]:
    """The mapping in force for a landing folder: the default, with `_cloudevents.yml` over it."""
    found = dict(DEFAULT_MAPPING)
    path = landing / MAPPING_FILE
    if not path.is_file():
        return found
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise FileRejected(f"{MAPPING_FILE} is not valid YAML ({error})") from None
    columns = EXPORTS[EXPORT].column_names
    if not isinstance(given, dict):
        raise FileRejected(f"{MAPPING_FILE} must map usage columns to CloudEvents fields")
    for column, field in given.items():
        if column not in columns:
            raise FileRejected(
                f"{MAPPING_FILE}: {column!r} is not a usage_events column ({', '.join(columns)})"
            )
        if not isinstance(field, str) or not (field in ATTRIBUTES or _DATA_PATH.fullmatch(field)):
            raise FileRejected(
                f"{MAPPING_FILE}: {column}: {field!r} is neither a CloudEvents attribute "
                f"({', '.join(ATTRIBUTES)}) nor a path into data (data.name)"
            )
        found[column] = field
    return found


def flattened_sql(line: str, columns: dict[str, str]) -> str:
    """SQL over a JSON line: the usage event a CloudEvent line maps to (a JSON object), or the
    line itself when it is no CloudEvent."""
    named = ", ".join(
        f"{literal(column)}, json_extract({line}, {literal('$.' + field)})"
        for column, field in sorted(columns.items())
    )
    envelope = (
        f"json_object('cloudevents_source', json_extract({line}, '$.source'), "
        f"'cloudevents_type', json_extract({line}, '$.type'))"
    )
    data = (
        f"case when json_type({line}, '$.data') = 'OBJECT' "
        f"then json_extract({line}, '$.data') else '{{}}'::json end"
    )
    return f"""case when json_exists({line}, '$.specversion')
        then json_merge_patch(json_merge_patch({data}, {envelope}), json_object({named}))::varchar
        else {line} end"""


def holds_cloudevents(conn, table: str, line: str) -> bool:
    """Whether any parsed line of the staged table is a CloudEvent (a text search first, so a
    plain usage file costs one quick scan and no JSON parsing)."""
    return bool(
        conn.execute(
            f"""select count(*) from (
                select 1 from {table}
                where __problem is null and contains({line}, '"specversion"')
                    and json_exists({line}, '$.specversion')
                limit 1
            )"""
        ).fetchall()[0][0]
    )
