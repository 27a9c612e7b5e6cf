"""EventChecker details the hot path must not change: date-times, positions, bytes input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.events import EventFactory, base_event, dumps
from wikistream.ingest.validate import INVALID, VALID, EventChecker


@pytest.fixture
def factory(shared_data: Path) -> EventFactory:
    return EventFactory(base_event(shared_data))


@pytest.mark.parametrize(
    ("dt", "hour"),
    [
        ("2026-02-26T15:49:36Z", "2026-02-26T15"),
        ("2026-02-26T15:59:59.123456789Z", "2026-02-26T15"),
        ("2026-02-26T15:59:60Z", "2026-02-26T15"),  # leap second
        ("2026-02-26t15:49:36z", "2026-02-26T15"),
        ("2026-02-26T17:49:36+02:00", "2026-02-26T15"),
        ("2026-02-26T15:61:00Z", None),
        ("2026-02-26T15:49:36.Z", None),
        ("2026-02-26T15:49:36.1234567891Z", None),
        ("2026-02-26T15:49:36", None),
        ("2026-02-26T15:4\u0669:36Z", None),  # an Arabic-Indic digit is no RFC 3339 digit
        ("2026-02-30T15:49:36Z", None),
    ],
)
def test_date_times_after_the_hour_was_seen_valid(
    factory: EventFactory, dt: str, hour: str | None
) -> None:
    checker = EventChecker(1_000_000)
    # Warm the caches with a valid event of the same hour, as a running ingest would have.
    assert checker.check(dumps(factory.make(dt="2026-02-26T15:00:00Z"))).kind == VALID
    for data in (dumps(factory.make(dt=dt)), dumps(factory.make(dt=dt)).encode()):
        verdict = checker.check(data)
        assert verdict.hour == hour
        assert verdict.kind == (VALID if hour else INVALID)
        if hour is None:
            assert verdict.error_type == "bad_datetime"


def test_bytes_and_text_get_the_same_verdicts(factory: EventFactory) -> None:
    checker = EventChecker(1_000_000)
    event = factory.make()
    texts = [
        dumps(event),
        dumps({**event, "title": "Zürich 東京 🙂"}),
        dumps({**event, "bot": "no"}),
        json.dumps(event)[:-3],
        dumps({**event, "meta": {**event["meta"], "partition": None}}),
    ]
    for text in texts:
        assert checker.check(text) == checker.check(text.encode())


def test_every_hour_of_a_known_date_gets_the_fast_path(factory: EventFactory) -> None:
    checker = EventChecker(1_000_000)
    for hour in range(24):
        dt = f"2026-02-26T{hour:02d}:30:00Z"
        assert checker.check(dumps(factory.make(dt=dt))).hour == dt[:13]
    assert checker._good_hours == {f"2026-02-26T{h:02d}" for h in range(24)}


@pytest.mark.parametrize(
    "bad", [b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
)
def test_invalid_utf8_anywhere_in_bytes_is_refused(factory: EventFactory, bad: bytes) -> None:
    """Bytes that decode with known keys only skip the separate UTF-8 check: never wrongly."""
    checker = EventChecker(1_000_000)
    good = dumps({**factory.make(), "log_params": {"k": ["v"]}}).encode()
    assert checker.check(good).kind == VALID
    places = [  # a known string, a known key's neighbour, unknown keys/values, nested Any
        (b'"title":"', b'"title":"' + bad),
        (b'"title":', b'"x_unknown":"' + bad + b'","title":'),
        (b'"title":', b'"x' + bad + b'":1,"title":'),
        (b'"domain":', b'"x' + bad + b'":1,"domain":'),
        (b'{"k":', b'{"' + bad + b'":1,"k":'),
        (b'["v"]', b'["' + bad + b'"]'),
    ]
    for old, new in places:
        data = good.replace(old, new, 1)
        assert data != good
        verdict = checker.check(data)
        assert (verdict.kind, verdict.error_type) == (INVALID, "invalid_utf8"), new
