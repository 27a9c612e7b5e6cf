"""Our schema facts agree with the official recentchange JSON schema (checked by jsonschema).

Random mutations of real events: whatever the official schema refuses, we refuse too. For
mutations that stay clear of our documented extra rules (docs/differences/ingest.md), both
verdicts are the same.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.events import SAMPLE_2023, SAMPLE_2026, real_events
from wikistream.ingest.validate import VALID, EventChecker

SCHEMA_FILE = "recentchange.schema.json"
PROPERTIES = [
    "title",
    "type",
    "bot",
    "comment",
    "id",
    "log_action",
    "log_action_comment",
    "log_id",
    "log_params",
    "log_type",
    "minor",
    "namespace",
    "parsedcomment",
    "patrolled",
    "server_name",
    "server_script_path",
    "server_url",
    "timestamp",
    "user",
    "wiki",
    "$schema",
]
META = ["domain", "dt", "request_id", "stream", "uri"]
# Safe values: no floats (we refuse 1.0 as an integer), only small ints (int64 rule).
SAFE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2026-02-26T15:49:36Z",
            "2026-02-26T15:49:36.5+02:00",
            "2026-13-01T00:00:00Z",
            "",
            "x" * 200,
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
ANY = (
    SAFE
    | st.floats(allow_nan=False)
    | st.integers()
    | st.sampled_from([2**53, -(2**53), 2**53 - 1, 2**63, 1.0])  # edges of the int ranges
)


@pytest.fixture(scope="module")
def validator(shared_data: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((shared_data / SCHEMA_FILE).read_text("utf-8"))
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


@pytest.fixture(scope="module")
def events(shared_data: Path) -> list[dict[str, Any]]:
    return real_events(shared_data, SAMPLE_2026) + real_events(shared_data, SAMPLE_2023)


@pytest.fixture(scope="module")
def shared_data() -> Path:
    from tests.conftest import SHARED_DATA

    return SHARED_DATA


def _mutate(
    event: dict[str, Any],
    data: st.DataObject,
    values: st.SearchStrategy[Any],
    donors: list[dict[str, Any]],
) -> dict[str, Any]:
    """1-3 changes; each new value is either taken from another real event or random."""
    event = copy.deepcopy(event)
    donor = data.draw(st.sampled_from(donors))
    for _ in range(data.draw(st.sampled_from([1, 1, 1, 2, 3]))):
        where = data.draw(st.sampled_from(["top", "top", "meta", "sizes", "drop"]))
        if where == "top":
            key = data.draw(st.sampled_from(PROPERTIES))
            event[key] = data.draw(st.just(donor.get(key)) | values)
        elif where == "meta":
            key = data.draw(st.sampled_from(META))
            event["meta"][key] = data.draw(st.just(donor["meta"].get(key)) | values)
        elif where == "sizes":
            part = data.draw(st.sampled_from(["length", "revision"]))
            event[part] = data.draw(
                st.dictionaries(st.sampled_from(["old", "new", "x"]), values, max_size=2) | values
            )
        else:
            key = data.draw(st.sampled_from(["$schema", "meta.stream", "meta.dt"]))
            if key.startswith("meta."):
                event["meta"].pop(key[5:], None)
            else:
                event.pop(key, None)
    return event


def _ours(event: dict[str, Any]) -> bool:
    return EventChecker(1_000_000).check(json.dumps(event)).kind == VALID


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_we_never_accept_what_the_official_schema_refuses(
    data: st.DataObject, validator: jsonschema.Draft7Validator, events: list[dict[str, Any]]
) -> None:
    event = _mutate(data.draw(st.sampled_from(events)), data, ANY, events)
    if _ours(event):
        assert validator.is_valid(event), list(validator.iter_errors(event))[:1]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_away_from_our_extra_rules_both_verdicts_agree(
    data: st.DataObject, validator: jsonschema.Draft7Validator, events: list[dict[str, Any]]
) -> None:
    event = _mutate(data.draw(st.sampled_from(events)), data, SAFE, events)
    # Our documented extras: the seed requires `type` and a non-empty meta.id/domain/dt, and
    # $schema must be recentchange 1.x (the official schema takes any string).
    schema = event.get("$schema")
    if not isinstance(event.get("type"), str) or not isinstance(schema, str):
        return
    if (
        not schema.startswith("/mediawiki/recentchange/1.")
        or event["meta"].get("domain") == "canary"
    ):
        return
    assert _ours(event) == validator.is_valid(event), list(validator.iter_errors(event))[:1]


def test_every_real_event_is_valid_under_both(
    validator: jsonschema.Draft7Validator, events: list[dict[str, Any]]
) -> None:
    for event in events:
        assert validator.is_valid(event)
        assert _ours(event)
