"""Reconnect delays: exponential backoff with full jitter, and the HTTP ``Retry-After`` header."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from wikistream.clock import utc_now


def backoff_delay(
    attempt: int, initial_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Delay before retry number ``attempt`` (1-based): uniform in [0, min(max, initial·2^(n-1))].

    "Full jitter" spreads clients that failed together so they do not return together.
    """
    exponent = min(max(attempt, 1) - 1, 62)  # 2**62 already dwarfs any max_s; avoid huge ints
    cap = min(max_s, initial_s * float(2**exponent))
    return (rng or random).uniform(0.0, cap)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` value (seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # inf/nan are not delays; negative values mean "now".
        return max(seconds, 0.0) if seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max((when - (now or utc_now())).total_seconds(), 0.0)
