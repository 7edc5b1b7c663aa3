"""When the data is from, when it was refreshed, when it will be next: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Stale data is said, not hidden. Exports arrive daily, so data more than two days
# older than the refresh that loaded it means a source stopped delivering.
STALE_AFTER = timedelta(days=2)


def is_stale(data_as_of: datetime | None, refreshed_at: datetime | None) -> bool:
    if data_as_of is None or refreshed_at is None:
        return False
    return refreshed_at - data_as_of > STALE_AFTER


def next_daily_run(cron: str, now: datetime) -> datetime:
    """Next firing of a daily cron `M H * * *` (UTC), strictly after `now`.

    croniter is not in the pinned stack and the schedule is daily by design, so only that
    shape is accepted; anything else raises instead of showing a wrong time.
    """
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise ValueError(f"Only a daily cron 'M H * * *' is supported, got {cron!r}")
    minute, hour = int(fields[0]), int(fields[1])
    if not (0 <= minute < 60 and 0 <= hour < 24):
        raise ValueError(f"Minute or hour out of range in {cron!r}")
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)
