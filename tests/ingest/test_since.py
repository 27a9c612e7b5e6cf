"""``--since`` parsing and the retention/future checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wikistream.errors import ConfigError, SinceOutOfRangeError
from wikistream.ingest.since import check_since, parse_since, since_param

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1.5h", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
        ("0s", timedelta(0)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(days=7)),
    ],
)
def test_durations(text: str, ago: timedelta) -> None:
    start = parse_since(text, 7, now=NOW)
    assert start == NOW - ago
    assert start.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T08:30:00Z", datetime(2026, 11, 26, 8, 30, tzinfo=UTC)),
        ("2026-11-26T08:30:00.250Z", datetime(2026, 11, 26, 8, 30, 0, 250000, tzinfo=UTC)),
        ("2026-11-26T10:30:00+02:00", datetime(2026, 11, 26, 8, 30, tzinfo=UTC)),
        ("2026-11-26T08:30:00", datetime(2026, 11, 26, 8, 30, tzinfo=UTC)),  # naive = UTC
        ("2026-11-26", datetime(2026, 11, 26, tzinfo=UTC)),
    ],
)
def test_iso_times_become_aware_utc(text: str, expected: datetime) -> None:
    start = parse_since(text, 7, now=NOW)
    assert start == expected
    assert start.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["8d", "169h", "2026-11-20T11:59:59Z", "99999999999999d"])
def test_older_than_retention_is_refused(text: str) -> None:
    with pytest.raises(SinceOutOfRangeError) as info:
        parse_since(text, 7, now=NOW)
    message = str(info.value)
    assert "7-day retention" in message
    assert "silently start from now" in message
    assert "2026-11-20T12:00:00Z" in message  # the oldest allowed start is named


def test_retention_comes_from_the_setting() -> None:
    assert parse_since("2d", 3, now=NOW) == NOW - timedelta(days=2)
    with pytest.raises(SinceOutOfRangeError, match="3-day retention"):
        parse_since("4d", 3, now=NOW)


def test_future_is_refused_but_small_skew_is_tolerated() -> None:
    assert parse_since("2026-11-27T12:00:03Z", 7, now=NOW) == NOW + timedelta(seconds=3)
    with pytest.raises(SinceOutOfRangeError, match="in the future"):
        parse_since("2026-11-27T13:00:00Z", 7, now=NOW)


@pytest.mark.parametrize("text", ["", "yesterday", "7d1", "-2h", "2 hours", "12", "2026-13-01"])
def test_garbage_is_a_config_error_naming_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="neither a duration") as info:
        parse_since(text, 7, now=NOW)
    assert info.value.key == "since"


def test_default_now_is_the_real_clock() -> None:
    start = parse_since("1h")
    assert abs((datetime.now(UTC) - start) - timedelta(hours=1)) < timedelta(seconds=5)


def test_since_param_format() -> None:
    assert since_param(datetime(2026, 11, 26, 8, 30, 0, 123456, tzinfo=UTC)) == (
        "2026-11-26T08:30:00.123Z"
    )
    plus_two = timezone(timedelta(hours=2))
    assert since_param(datetime(2026, 11, 26, 10, 30, tzinfo=plus_two)) == (
        "2026-11-26T08:30:00.000Z"
    )
    with pytest.raises(ValueError, match="aware"):
        since_param(datetime(2026, 11, 26, 8, 30))


def test_check_since_on_datetimes() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2026, 11, 27, 10, 0, tzinfo=plus_two)
    assert check_since(start, 7, now=NOW) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    with pytest.raises(SinceOutOfRangeError, match=r"since 2026-11-01T00:00:00Z is, older"):
        check_since(datetime(2026, 11, 1, tzinfo=UTC), 7, now=NOW)
    with pytest.raises(ValueError, match="naive"):
        check_since(datetime(2026, 11, 27), 7, now=NOW)
