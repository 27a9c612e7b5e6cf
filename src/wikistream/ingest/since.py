"""``--since``: where a fresh live ingest starts, checked against EventStreams' retention.

EventStreams accepts ``?since=<time>`` but silently starts from *now* when it holds nothing that
old (7-day retention) or when the time is in the future, so a typo would quietly lose data. We
refuse such values up front instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from wikistream.clock import parse_iso_utc, utc_now
from wikistream.errors import ConfigError, SinceOutOfRangeError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Another machine's clock may run a little ahead; a few seconds "in the future" still means now.
FUTURE_TOLERANCE = timedelta(seconds=5)
_MAX_SECONDS = 100 * 365 * 86400.0


def parse_since(text: str, retention_days: float = 7.0, *, now: datetime | None = None) -> datetime:
    """Parse ``90s``, ``15m``, ``2h``, ``3d``, ``1w`` or an ISO-8601 time into an aware UTC time.

    A time without an offset is taken as UTC. Raises :class:`ConfigError` for text that is
    neither, and :class:`SinceOutOfRangeError` for a time older than ``retention_days`` or in the
    future.
    """
    now = now or utc_now()
    return check_since(_parse(text, now), retention_days, now=now, text=text.strip())


def check_since(
    start: datetime,
    retention_days: float = 7.0,
    *,
    now: datetime | None = None,
    text: str | None = None,
) -> datetime:
    """Return ``start`` if the stream can still start there; else raise SinceOutOfRangeError."""
    if start.tzinfo is None:
        raise ValueError(f"since must be an aware datetime, got naive {start.isoformat()}")
    now = now or utc_now()
    given = f"--since {text} means {_show(start)}" if text else f"since {_show(start)} is"
    oldest = now - timedelta(days=retention_days)
    if start < oldest:
        raise SinceOutOfRangeError(
            f"{given}, older than EventStreams' {retention_days:g}-day retention (oldest "
            f"possible start: {_show(oldest)}); the server would silently start from now "
            f"instead. Use a value within {retention_days:g} days, or replay a file with: "
            "wikistream ingest --replay FILE"
        )
    if start > now + FUTURE_TOLERANCE:
        raise SinceOutOfRangeError(
            f"{given}, which is in the future (now is {_show(now)}); give a past time such "
            f"as 2h or an ISO time like {_show(now)}"
        )
    return start.astimezone(UTC)


def since_param(value: datetime) -> str:
    """Format a start time for the ``since`` query parameter (ISO-8601 UTC, ms, ``Z``)."""
    if value.tzinfo is None:
        raise ValueError(f"since_param needs an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str, now: datetime) -> datetime:
    match = _DURATION.match(text)
    if match:
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        # Clamp absurd values (they fail the retention check anyway) so timedelta cannot overflow.
        return now - timedelta(seconds=min(seconds, _MAX_SECONDS))
    try:
        return parse_iso_utc(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither a duration (90s, 15m, 2h, 3d) nor an ISO-8601 time "
            "(2026-02-26T15:00:00Z)",
            key="since",
        ) from None


def _show(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
