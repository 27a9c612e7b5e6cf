"""Reconnect delays and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from wikistream.ingest.backoff import backoff_delay, parse_retry_after


def test_full_jitter_stays_within_a_doubling_cap() -> None:
    rng = random.Random(7)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (500, 60.0)]:
        delays = [backoff_delay(attempt, 1.0, 60.0, rng) for _ in range(400)]
        assert all(0.0 <= d <= cap for d in delays)
        # Jitter really spreads: the largest of 400 draws is near the cap, the smallest near 0.
        assert max(delays) > 0.9 * cap
        assert min(delays) < 0.1 * cap


def test_attempt_below_one_counts_as_first() -> None:
    rng = random.Random(1)
    assert all(backoff_delay(0, 1.0, 60.0, rng) <= 1.0 for _ in range(50))


NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("Fri, 27 Nov 2026 12:00:30 GMT", 30.0),
        ("Fri, 27 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
