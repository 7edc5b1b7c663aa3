"""The sidebar's choices: the segments and months the marts hold."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from ._core import _read


def segments() -> list[str]:
    frame = _read(
        "the segments",
        "select distinct segment from marts.fct_account_month where segment is not null order by 1",
    )
    return [str(segment) for segment in frame["segment"]]


def months() -> list[datetime]:
    frame = _read(
        "the months",
        "select distinct month from marts.fct_account_month where month is not null order by 1",
    )
    return [pd.Timestamp(month).to_pydatetime() for month in frame["month"]]
