"""The hostile inputs ingest must survive, each with its expected outcome.

Outcome: ``dlq:<error_type>`` (dead-lettered with that reason), ``appended``, ``filtered``,
``canary``, or ``skipped`` (blank data: not an event, not counted).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.ingest.events import EventFactory, dumps

Case = tuple[str, Callable[[EventFactory], str], str]

MAX_EVENT_BYTES = 50_000  # the tests' ingest.max_event_bytes (default 1 MB), to keep them fast


def _without(key: str) -> Callable[[EventFactory], str]:
    def build(f: EventFactory) -> str:
        event = f.make()
        del event[key]
        return dumps(event)

    return build


def _without_meta(key: str) -> Callable[[EventFactory], str]:
    def build(f: EventFactory) -> str:
        event = f.make()
        del event["meta"][key]
        return dumps(event)

    return build


def _with(**fields: object) -> Callable[[EventFactory], str]:
    def build(f: EventFactory) -> str:
        event = f.make()
        event.update(fields)
        return dumps(event)

    return build


def _with_meta(**fields: object) -> Callable[[EventFactory], str]:
    return lambda f: dumps(f.make(**fields))


def _canary_minimal(f: EventFactory) -> str:
    event = f.make(domain="canary")
    return dumps({"$schema": event["$schema"], "meta": event["meta"]})


def _canary_broken(f: EventFactory) -> str:
    event = f.make(domain="canary")
    del event["meta"]["dt"]
    event["namespace"] = "not a number"
    return dumps(event)


def _legacy(f: EventFactory) -> str:
    event = f.make(
        domain="en.wikipedia.org",
        schema_uri="mediawiki/recentchange/1",
        dt="2018-03-07T16:16:17+00:00",
    )
    del event["$schema"], event["meta"]["stream"]
    return dumps(event)


def _duplicate_keys_conflicting(f: EventFactory) -> str:
    text = dumps(f.make())
    return text[:-1] + ',"namespace":"zero"}'


def _duplicate_keys_valid(f: EventFactory) -> str:
    text = dumps(f.make(domain="uk.wikipedia.org"))
    return text.replace('"meta":{', '"meta":{"domain":"xx.wikipedia.org",', 1)


def _deep(f: EventFactory) -> str:
    event = f.make()
    text = dumps(event)
    return text[:-1] + ',"log_params":' + "[" * 5000 + "]" * 5000 + "}"


HOSTILE: list[Case] = [
    ("not JSON", lambda f: "this is not json", "dlq:invalid_json"),
    ("truncated JSON", lambda f: dumps(f.make())[:-25], "dlq:invalid_json"),
    ("trailing garbage", lambda f: dumps(f.make()) + " {}", "dlq:invalid_json"),
    ("byte order mark", lambda f: "\ufeff" + dumps(f.make()), "dlq:invalid_json"),
    ("JSON array", lambda f: "[1, 2, 3]", "dlq:not_an_object"),
    ("JSON number", lambda f: "42", "dlq:not_an_object"),
    ("JSON string", lambda f: '"an event"', "dlq:not_an_object"),
    ("JSON null", lambda f: "null", "dlq:not_an_object"),
    ("JSON true", lambda f: "true", "dlq:not_an_object"),
    ("empty object", lambda f: "{}", "dlq:missing_field"),
    ("missing meta", _without("meta"), "dlq:missing_field"),
    ("meta not an object", _with(meta="en.wikipedia.org"), "dlq:wrong_type"),
    ("meta null", _with(meta=None), "dlq:wrong_type"),
    ("meta.id wrong type", _with_meta(id=12345), "dlq:wrong_type"),
    ("meta.id empty", _with_meta(id=""), "dlq:constraint_violation"),
    ("missing meta.id", _without_meta("id"), "dlq:missing_field"),
    ("missing meta.domain", _without_meta("domain"), "dlq:missing_field"),
    ("missing meta.dt", _without_meta("dt"), "dlq:missing_field"),
    ("bad date-time", _with_meta(dt="yesterday at noon"), "dlq:bad_datetime"),
    ("date-time without offset", _with_meta(dt="2026-02-26T15:49:36"), "dlq:bad_datetime"),
    ("impossible date", _with_meta(dt="2026-02-30T15:49:36Z"), "dlq:bad_datetime"),
    (
        "meta.dt too long",
        _with_meta(dt="2026-02-26T15:49:36." + "1" * 200 + "Z"),
        "dlq:constraint_violation",
    ),
    ("missing type (non-canary)", _without("type"), "dlq:missing_field"),
    ("type wrong type", _with(type=5), "dlq:wrong_type"),
    ("namespace as string", _with(namespace="0"), "dlq:wrong_type"),
    ("namespace as float", _with(namespace=0.5), "dlq:wrong_type"),
    ("namespace out of range", _with(namespace=2**60), "dlq:constraint_violation"),
    ("bot as string", _with(bot="false"), "dlq:wrong_type"),
    ("length.old as string", _with(length={"old": "1", "new": 2}), "dlq:wrong_type"),
    ("revision.new as string", _with(revision={"old": 1, "new": "2"}), "dlq:wrong_type"),
    ("id as string", _with(id="1659529639"), "dlq:wrong_type"),
    ("id beyond int64", _with(id=2**64), "dlq:constraint_violation"),
    ("meta.offset as string", _with_meta(offset="17"), "dlq:wrong_type"),
    ("huge event over the limit", _with(comment="x" * MAX_EVENT_BYTES), "dlq:oversize"),
    (
        "huge title under the limit (schema sets no title limit)",
        _with(title="T" * 40_000),
        "appended",
    ),
    (
        "multi-byte event over the limit in bytes",
        _with(comment="é" * (MAX_EVENT_BYTES // 2 + 10)),
        "dlq:oversize",
    ),
    (
        "lone surrogate escape",
        lambda f: dumps(f.make()).replace('"title":"', '"title":"\\ud800', 1),
        "dlq:invalid_json",
    ),
    (
        "invalid UTF-8 bytes (decoded with surrogateescape)",
        lambda f: dumps(f.make()).replace('"title":"', '"title":"\udcff', 1),
        "dlq:invalid_utf8",
    ),
    (
        "invalid UTF-8 in an unknown field (msgspec skips it undecoded)",
        lambda f: dumps(f.make()).replace('"title":', '"x_unknown":"\udcff","title":', 1),
        "dlq:invalid_utf8",
    ),
    (
        "UTF-8-encoded surrogate in an unknown key",
        lambda f: dumps(f.make()).replace('"title":', '"x\udced\udca0\udc80":1,"title":', 1),
        "dlq:invalid_utf8",
    ),
    (
        "raw NUL byte",
        lambda f: dumps(f.make()).replace('"title":"', '"title":"\x00', 1),
        "dlq:invalid_json",
    ),
    ("escaped NUL in a string (valid JSON)", _with(comment="a\x00b"), "appended"),
    ("deeply nested JSON", _deep, "dlq:invalid_json"),
    ("duplicate keys, one value of the wrong type", _duplicate_keys_conflicting, "dlq:wrong_type"),
    (
        "duplicate keys, both valid: last wins (filtered: uk is no target)",
        _duplicate_keys_valid,
        "filtered",
    ),
    ("canary with only $schema and meta", _canary_minimal, "canary"),
    ("canary without meta.dt and a bad field", _canary_broken, "canary"),
    ("non-target domain", _with_meta(domain="commons.wikimedia.org"), "filtered"),
    (
        "invalid event of a non-target domain (validation first)",
        lambda f: dumps({**f.make(domain="commons.wikimedia.org"), "bot": 1}),
        "dlq:wrong_type",
    ),
    ("legacy 2018 event of a target wiki", _legacy, "appended"),
    ("meta.domain empty string", _with_meta(domain=""), "dlq:constraint_violation"),
    (
        "extremely long meta.uri",
        _with_meta(uri="https://en.wikipedia.org/" + "a" * 9000),
        "dlq:constraint_violation",
    ),
    (
        "$schema of another major version",
        _with(**{"$schema": "/mediawiki/recentchange/2.0.0"}),
        "dlq:unsupported_schema",
    ),
    ("no $schema and no legacy schema_uri", _without("$schema"), "dlq:missing_field"),
    ("missing meta.stream", _without_meta("stream"), "dlq:missing_field"),
    ("log_params of a wrong type", _with(log_params=12), "dlq:wrong_type"),
    ("blank data", lambda f: "   ", "skipped"),
    ("valid event (control)", lambda f: dumps(f.make()), "appended"),
    (
        "valid event with $schema 1.0.1 and unknown extra fields",
        _with(**{"$schema": "/mediawiki/recentchange/1.0.1", "new_field": {"x": [1]}}),
        "appended",
    ),
]

assert len(HOSTILE) >= 30
assert all(json.dumps(c[0]) for c in HOSTILE)
