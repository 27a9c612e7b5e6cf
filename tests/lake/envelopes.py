"""Lake test helpers: envelopes built the way ingest builds them, a log and a catalog."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog

from wikistream.eventlog.base import EventLog, NewRecord
from wikistream.eventlog.registry import open_event_log
from wikistream.ingest.envelope import raw_record
from wikistream.lake.catalog import open_catalog
from wikistream.settings import Settings

REAL_FILES = (
    "recentchange-2026-02-26.jsonl",
    "recentchange-enwiki-2023-07-29.jsonl",
    "wikidata-recentchange-2018-03-07.jsonl",
)


def envelope(
    line: str, *, event_id: str | None = None, ingested_at: str | None = None
) -> NewRecord:
    """The raw-topic record ingest writes for one event line (``data`` kept verbatim)."""
    event = json.loads(line)
    meta = event.get("meta") if isinstance(event, dict) else None
    eid = event_id or (meta or {}).get("id") or str(uuid.uuid4())
    return raw_record(
        eid,
        line,
        ingested_at=ingested_at or "2026-02-26T15:49:37.123456Z",
        environment="test",
        sse_id=None,
        topic=None,
        partition=None,
        offset=None,
    )


def raw_value(body: Any) -> NewRecord:
    """A raw-topic record with an arbitrary value (for malformed-record tests)."""
    value = body if isinstance(body, bytes) else json.dumps(body).encode()
    return NewRecord(value=value, key=None)


def real_lines(shared_data: Path, domains: Iterable[str] | None = None) -> list[str]:
    """Every event line of the real files, optionally only those of ``domains``."""
    wanted = set(domains) if domains is not None else None
    lines: list[str] = []
    for name in REAL_FILES:
        for line in (shared_data / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            if wanted is None or json.loads(line)["meta"]["domain"] in wanted:
                lines.append(line)
    return lines


def event_line(**fields: Any) -> str:
    """A generated-like recentchange event; ``fields`` override or (value None) remove keys."""
    eid = str(uuid.uuid4())
    event: dict[str, Any] = {
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "uri": "https://en.wikipedia.org/wiki/Test",
            "id": eid,
            "dt": "2026-02-26T15:49:36.569Z",
            "domain": "en.wikipedia.org",
            "stream": "mediawiki.recentchange",
        },
        "id": 1234567,
        "type": "edit",
        "namespace": 0,
        "title": "Test",
        "title_url": "https://en.wikipedia.org/wiki/Test",
        "comment": "c",
        "timestamp": 1772120976,
        "user": "Someone",
        "bot": False,
        "length": {"old": 100, "new": 150},
        "revision": {"old": 10, "new": 11},
        "server_name": "en.wikipedia.org",
        "wiki": "enwiki",
    }
    for key, value in fields.items():
        if key.startswith("meta_"):
            if value is None:
                event["meta"].pop(key[5:], None)
            else:
                event["meta"][key[5:]] = value
        elif value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return json.dumps(event)


@pytest.fixture
def lake_settings(settings: Settings) -> Settings:
    """Settings with the real wikis of the sample files as targets and small triggers."""
    settings.ingest.target_domains = [*settings.ingest.target_domains, "www.wikidata.org"]
    return settings


@pytest.fixture
def event_log(lake_settings: Settings) -> Iterator[EventLog]:
    log = open_event_log(lake_settings)
    yield log
    log.close()


@pytest.fixture
def catalog(lake_settings: Settings) -> Catalog:
    return open_catalog(lake_settings)
