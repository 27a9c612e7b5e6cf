"""Timezone-aware UTC time: the only clock WikiStream uses."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def parse_iso_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z``, offsets, fractional seconds) into aware UTC.

    A timestamp without an offset is taken as UTC. Raises ``ValueError`` on bad input.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso_utc_or_none(value: object) -> datetime | None:
    """Like :func:`parse_iso_utc` for a value read from a file: None unless a valid timestamp."""
    if not isinstance(value, str):
        return None
    try:
        return parse_iso_utc(value)
    except ValueError:
        return None


def to_iso(value: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with microseconds and ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_since(when: datetime | None, now: datetime) -> float | None:
    """Seconds from ``when`` to ``now``, rounded to a tenth (None when ``when`` is None)."""
    return None if when is None else round((now - when).total_seconds(), 1)
