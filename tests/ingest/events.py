"""Small builders of real-looking events for ingest tests (based on the real 2026 sample)."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from wikistream.ingest.source import SourceStatus, SseEvent

SAMPLE_2026 = "recentchange-2026-02-26.jsonl"
SAMPLE_2023 = "recentchange-enwiki-2023-07-29.jsonl"
SAMPLE_2018 = "wikidata-recentchange-2018-03-07.jsonl"


def real_events(shared_data: Path, name: str = SAMPLE_2026) -> list[dict[str, Any]]:
    """The parsed events of a real sample file."""
    lines = (shared_data / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def base_event(shared_data: Path) -> dict[str, Any]:
    """A real, valid en.wikipedia.org edit event from 2026."""
    for event in real_events(shared_data):
        if event["meta"]["domain"] == "en.wikipedia.org" and event["type"] == "edit":
            return event
    raise AssertionError("no enwiki edit in the sample")


class EventFactory:
    """Fresh copies of a base event with a unique meta.id and the next upstream offset."""

    def __init__(self, base: dict[str, Any], *, start_offset: int = 1000) -> None:
        self.base = base
        self.offset = start_offset

    def make(self, **meta: Any) -> dict[str, Any]:
        event = copy.deepcopy(self.base)
        self.offset += 1
        event["meta"].update(
            {
                "id": str(uuid.uuid4()),
                "offset": self.offset,
                "topic": "codfw.mediawiki.recentchange",
            }
        )
        event["meta"].update(meta)
        return event


def dumps(event: Any) -> str:
    """Compact JSON text of an event."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class ListSource:
    """An EventSource over a fixed list (None items are idle ticks)."""

    def __init__(self, items: Iterable[SseEvent | None]) -> None:
        self.items = list(items)
        self.status = SourceStatus()
        self.resumed_from: list[str | None] = []

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        self.resumed_from.append(resume_id)
        for item in self.items:
            if stop.is_set():
                return
            yield item


def sse(data: str, n: int | None = None) -> SseEvent:
    """An SSE message event with a live-looking id."""
    sid = (
        None
        if n is None
        else json.dumps([{"topic": "codfw.mediawiki.recentchange", "partition": 0, "timestamp": n}])
    )
    return SseEvent(data=data, id=sid)
