"""Time helpers shared by reports, the dashboard and the status feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wikistream.clock import parse_iso_utc_or_none, seconds_since

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_seconds_since_rounds_to_a_tenth_and_passes_none_through() -> None:
    assert seconds_since(NOW - timedelta(seconds=12.345), NOW) == 12.3
    assert seconds_since(NOW + timedelta(seconds=2), NOW) == -2.0
    assert seconds_since(None, NOW) is None


def test_values_read_from_files_parse_or_give_none() -> None:
    assert parse_iso_utc_or_none("2026-03-01T13:00:00+01:00") == NOW
    assert parse_iso_utc_or_none("2026-03-01T12:00:00Z") == NOW
    for bad in ("", "yesterday", None, 5, ["2026-03-01"]):
        assert parse_iso_utc_or_none(bad) is None
