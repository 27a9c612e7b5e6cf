"""Decide what one event is: valid, invalid (with a reason), or a canary heartbeat.

Order of checks (first failure wins):

1. size: more than ``max_event_bytes`` UTF-8 bytes → ``oversize`` (not decoded at all);
2. JSON: not valid JSON / invalid UTF-8 / nested too deep → ``invalid_json`` / ``invalid_utf8``;
   valid JSON but not an object → ``not_an_object``;
3. canary: ``meta.domain == "canary"`` → :data:`CANARY`, before anything else is required
   (live canaries carry only ``$schema`` and ``meta``);
4. the seed's rules (SEED-FACTS §1.4) with its exact messages: ``meta``, ``type``, ``meta`` is an
   object, ``meta.id``, ``meta.domain``, ``meta.dt`` → ``missing_field``;
5. the schema's types, lengths and ranges (:mod:`wikistream.ingest.schema`) → ``wrong_type`` or
   ``constraint_violation``, with the JSON path;
6. schema version: ``$schema`` must be ``mediawiki/recentchange/1.x``, which requires
   ``meta.stream``; an event without ``$schema`` is accepted only in the legacy 2018 format
   (``meta.schema_uri`` present, ``meta.topic`` and ``meta.uri`` required) → ``unsupported_schema``
   / ``missing_field``;
7. ``meta.dt`` must be an RFC 3339 date-time → ``bad_datetime``.

The upstream position (``meta.topic/partition/offset``) and the UTC hour of ``meta.dt`` are
reported for invalid events too whenever they can be read, so duplicates and coverage are counted
for every event the stream delivered.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

import msgspec
from msgspec import UNSET

from wikistream.ingest.schema import ANY_DECODER, DECODER, KNOWN_DECODER, EventMeta, RecentChange

VALID: Final = 0
INVALID: Final = 1
CANARY: Final = 2

CANARY_DOMAIN = "canary"

_SCHEMA_1X = re.compile(r"^(?:.*/)?mediawiki/recentchange/1\.\d+\.\d+$")
_LEGACY_SCHEMA_URI = re.compile(r"^(?:.*/)?mediawiki/recentchange/\d+$")
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d{1,9})?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,  # RFC 3339 digits are ASCII; \d would also take e.g. Arabic-Indic digits
).fullmatch
_MINUTES_Z = re.compile(r":[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?Z").fullmatch
_UTC_OFFSETS = frozenset(("+00:00", "-00:00"))
# ":MM:SS" and "[.fff]Z" tails of the usual UTC date-times: set look-ups, cheaper than the regex.
_MINUTE_SECONDS = frozenset(f":{m:02d}:{s:02d}" for m in range(60) for s in range(61))
_FRACTIONS_Z = frozenset(["Z"] + [f".{n:0{w}d}Z" for w in (1, 2, 3) for n in range(10**w)])
_new_tuple = tuple.__new__


class Verdict(NamedTuple):
    """What :meth:`EventChecker.check` decided about one event."""

    kind: int  # VALID, INVALID or CANARY
    event_id: str | None
    domain: str | None
    topic: str | None
    partition: int | None
    offset: int | None
    hour: str | None  # UTC hour of meta.dt, "YYYY-MM-DDTHH"
    error_type: str | None = None
    message: str | None = None
    original: dict[str, Any] | None = None  # the parsed object, for the DLQ record


class EventChecker:
    """Validates event texts against the schema facts and the seed's rules."""

    def __init__(self, max_event_bytes: int) -> None:
        self.max_event_bytes = max_event_bytes
        # Dates already proven real by datetime (the regex cannot see Feb 30); one per hour.
        self._good_dates: set[str] = set()
        self._good_hours: set[str] = set()  # "YYYY-MM-DDTHH" of UTC date-times seen valid

    def check(self, data: str | bytes) -> Verdict:
        """Return the verdict for one SSE ``data`` text (or its UTF-8 bytes); never raises."""
        event: RecentChange | None = None
        if type(data) is bytes:
            if len(data) > self.max_event_bytes:
                return _oversize(len(data), self.max_event_bytes)
            try:
                event = KNOWN_DECODER.decode(data)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                # Decoded again below, where the error is explained. msgspec checks the UTF-8
                # of the values it decodes, not of skipped ones (unknown keys): check it all.
                if not data.isascii():
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        return _not_utf8(exc.start)
        elif len(data) * 4 > self.max_event_bytes:
            nbytes = len(data.encode("utf-8", "surrogatepass"))  # type: ignore[union-attr]
            if nbytes > self.max_event_bytes:
                return _oversize(nbytes, self.max_event_bytes)
        try:
            if event is None:
                event = DECODER.decode(data)
        except msgspec.ValidationError as exc:
            return self._explain(data, str(exc))
        except msgspec.DecodeError as exc:
            return _refused("invalid_json", _json_message(str(exc)))
        except RecursionError:
            return _refused("invalid_json", "data is nested too deeply to decode (> ~1000 levels)")
        except UnicodeEncodeError as exc:  # text with lone surrogates
            # Text decoded with surrogateescape: count the bytes before the first bad one.
            return _not_utf8(len(str(data)[: exc.start].encode("utf-8")))

        meta = event.meta
        if meta is UNSET:
            return _refused("missing_field", "Missing required field: meta")
        topic, partition, offset = meta.topic, meta.partition, meta.offset
        if type(topic) is not str or type(partition) is not int or type(offset) is not int:
            topic = partition = offset = None  # all three or no position (unset or null)
        domain = None if meta.domain is UNSET else meta.domain
        event_id = None if meta.id is UNSET else meta.id
        dt = meta.dt
        # Hot path: "YYYY-MM-DDTHH" already proven real, the rest must be ":MM:SS[.f]Z".
        hour: str | None
        if (
            type(dt) is str
            and dt[:13] in self._good_hours
            and (
                (dt[13:19] in _MINUTE_SECONDS and dt[19:] in _FRACTIONS_Z)
                or _MINUTES_Z(dt, 13) is not None
            )
        ):
            hour = dt[:13]
        else:
            hour = self.utc_hour(dt)
        if domain == CANARY_DOMAIN:
            return Verdict(CANARY, event_id, domain, topic, partition, offset, hour)
        if (
            not event_id
            or domain is None
            or hour is None
            or event.type is UNSET
            or meta.stream is UNSET
            or event.schema not in _KNOWN_SCHEMAS
        ):
            # Something is missing or unusual: the rules in the seed's order, with messages.
            problem = _seed_rules_typed(event.type is UNSET, meta)
            if problem is None:
                problem = _schema_version(event.schema, meta)
            if problem is None and hour is None:
                problem = (
                    "bad_datetime",
                    f"meta.dt {meta.dt!r} is not an RFC 3339 date-time (e.g. 2026-02-26T15:49:36Z)",
                )
            if problem is not None:
                return Verdict(
                    INVALID,
                    event_id,
                    domain,
                    topic,
                    partition,
                    offset,
                    hour,
                    *problem,
                    _as_dict(data),
                )
        # tuple.__new__ skips NamedTuple's Python-level __new__: a third of a µs per event.
        return _new_tuple(
            Verdict, (VALID, event_id, domain, topic, partition, offset, hour, None, None, None)
        )

    def utc_hour(self, dt: Any) -> str | None:
        """Return ``YYYY-MM-DDTHH`` (UTC) of an RFC 3339 date-time, or None when it is not one."""
        if not isinstance(dt, str) or _RFC3339(dt) is None:
            return None
        date = dt[:10]
        utc = dt[-1] in "Zz" or dt[-6:] in _UTC_OFFSETS
        if utc and date in self._good_dates:
            if dt[10] == "T":
                self._good_hours.add(dt[:13])
            return f"{date}T{dt[11:13]}"
        try:
            # A leap second (":60") is valid RFC 3339 but not a Python datetime.
            parsed = datetime.fromisoformat(dt.upper().replace(":60", ":59"))
        except ValueError:
            return None
        if utc:
            if len(self._good_dates) > 10_000:
                self._good_dates.clear()
                self._good_hours.clear()
            self._good_dates.add(date)
            if dt[10] == "T":
                self._good_hours.add(dt[:13])
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H")

    def _explain(self, data: str | bytes, schema_error: str) -> Verdict:
        """Slow path: the typed decode failed; find the seed-ordered reason and the position."""
        try:
            obj = ANY_DECODER.decode(data)
        except msgspec.DecodeError as exc:  # broken after the first bad value
            return _refused("invalid_json", _json_message(str(exc)))
        except RecursionError:
            return _refused("invalid_json", "data is nested too deeply to decode (> ~1000 levels)")
        if not isinstance(obj, dict):
            return _refused("not_an_object", f"event is a JSON {_json_kind(obj)}, not an object")
        meta = obj.get("meta")
        topic = partition = offset = None
        event_id = domain = hour = None
        if isinstance(meta, dict):
            topic, partition, offset = _loose_position(meta)
            event_id = meta.get("id") if isinstance(meta.get("id"), str) else None
            domain = meta.get("domain") if isinstance(meta.get("domain"), str) else None
            hour = self.utc_hour(meta.get("dt"))
            if domain == CANARY_DOMAIN:
                return Verdict(CANARY, event_id, domain, topic, partition, offset, hour)
        error_type, message = _seed_rules_loose(obj) or _schema_error(schema_error)
        return Verdict(
            INVALID, event_id, domain, topic, partition, offset, hour, error_type, message, obj
        )


def _oversize(nbytes: int, limit: int) -> Verdict:
    return _refused(
        "oversize",
        f"event is {nbytes} bytes, more than max_event_bytes={limit}; raise "
        "ingest.max_event_bytes to accept it",
    )


def _not_utf8(offset: int) -> Verdict:
    return _refused(
        "invalid_utf8",
        f"data is not valid UTF-8 text: the byte at offset {offset} is not UTF-8 (a lone "
        "surrogate, Latin-1 text or a cut multi-byte character); the producer must send UTF-8",
    )


def _refused(error_type: str, message: str) -> Verdict:
    return Verdict(INVALID, None, None, None, None, None, None, error_type, message, None)


def _loose_position(meta: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    topic, partition, offset = meta.get("topic"), meta.get("partition"), meta.get("offset")
    if (
        isinstance(topic, str)
        and topic
        and type(partition) is int
        and type(offset) is int
        and partition >= 0
        and 0 <= offset < 2**63
    ):
        return topic, partition, offset
    return None, None, None


def _seed_rules_typed(type_missing: bool, meta: EventMeta) -> tuple[str, str] | None:
    """The seed's §1.4 rules 2, 4-6 on a decoded event (rules 1 and 3 are settled by then)."""
    if type_missing:
        return "missing_field", "Missing required field: type"
    if meta.id is UNSET:
        return "missing_field", "Missing meta.id"
    if not meta.id:
        return "constraint_violation", "meta.id is empty; it is the record key and must be set"
    if meta.domain is UNSET:
        return "missing_field", "Missing meta.domain"
    if meta.dt is UNSET:
        return "missing_field", "Missing meta.dt"
    return None


def _seed_rules_loose(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The seed's §1.4 rules, in its order and with its messages, on an untyped object."""
    if "meta" not in obj:
        return "missing_field", "Missing required field: meta"
    if "type" not in obj:
        return "missing_field", "Missing required field: type"
    meta = obj["meta"]
    if not isinstance(meta, dict):
        return "wrong_type", "meta field is not a dictionary"
    for key in ("id", "domain", "dt"):
        if key not in meta:
            return "missing_field", f"Missing meta.{key}"
    return None


def _schema_version(schema: Any, meta: EventMeta) -> tuple[str, str] | None:
    """``$schema`` must be recentchange 1.x (needs meta.stream), or the event legacy 2018."""
    if schema is not UNSET:
        if schema not in _KNOWN_SCHEMAS and not _remember_schema(schema):
            return (
                "unsupported_schema",
                f"$schema {schema!r} is not mediawiki/recentchange/1.x; this WikiStream "
                "version reads recentchange 1.x and the legacy 2018 format",
            )
        if meta.stream is UNSET:
            return "missing_field", "Missing meta.stream (required by recentchange 1.x)"
        return None
    schema_uri = meta.schema_uri
    if not isinstance(schema_uri, str):
        return "missing_field", "Missing required field: $schema"
    if not _LEGACY_SCHEMA_URI.match(schema_uri):
        return (
            "unsupported_schema",
            f"meta.schema_uri {schema_uri!r} is not a legacy mediawiki/recentchange schema",
        )
    if meta.topic is UNSET or meta.topic is None:
        return "missing_field", "Missing meta.topic (required by the legacy 2018 format)"
    if meta.uri is UNSET:
        return "missing_field", "Missing meta.uri (required by the legacy 2018 format)"
    return None


_KNOWN_SCHEMAS: set[str] = set()


def _remember_schema(schema: str) -> bool:
    """True when ``schema`` names recentchange 1.x; remembered so the regex runs once."""
    if _SCHEMA_1X.match(schema) is None:
        return False
    if len(_KNOWN_SCHEMAS) < 100:
        _KNOWN_SCHEMAS.add(schema)
    return True


def _schema_error(text: str) -> tuple[str, str]:
    """Map msgspec's message (``Expected `int`, got `str` - at `$.namespace```) to a type."""
    error_type = "wrong_type" if ", got `" in text else "constraint_violation"
    return error_type, f"schema violation: {text}"


def _json_message(text: str) -> str:
    if "truncated" in text:
        return (
            "data is not valid JSON: it ends too early or holds an invalid \\u escape "
            f"(e.g. a lone surrogate) ({text})"
        )
    return f"data is not valid JSON: {text}"


def _json_kind(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "boolean"
    if isinstance(obj, int | float):
        return "number"
    if isinstance(obj, str):
        return "string"
    return "array"


def _as_dict(data: str | bytes) -> dict[str, Any] | None:
    try:
        obj = ANY_DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None
