"""The EventLog contract (wikistream.eventlog.base), checked on every backend."""

from __future__ import annotations

import time

from tests.contract.conftest import LogFactory
from wikistream.eventlog.base import LogRecord, NewRecord, lag

RAW = "raw-events"
DLQ = "dlq-events"


def _records(n: int, start: int = 0) -> list[NewRecord]:
    return [
        NewRecord(value=f"v{i}".encode(), key=f"k{i}".encode()) for i in range(start, start + n)
    ]


def _read_all(log, topic: str, after: dict[int, int] | None = None) -> list[LogRecord]:
    position = dict(after or {})
    out: list[LogRecord] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch = log.read(topic, position, 500)
        if not batch:
            if out:
                break
            time.sleep(0.05)
            continue
        out.extend(batch)
        for rec in batch:
            position[rec.partition] = rec.offset
    return out


def _values(records: list[LogRecord]) -> list[bytes]:
    return [r.value for r in records]


def test_append_then_read_in_order(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(50)})
    got = _read_all(log, RAW)
    assert sorted(_values(got), key=lambda v: int(v[1:])) == [f"v{i}".encode() for i in range(50)]
    by_partition: dict[int, list[int]] = {}
    for rec in got:
        by_partition.setdefault(rec.partition, []).append(rec.offset)
        assert rec.timestamp.tzinfo is not None
    for offsets in by_partition.values():
        assert offsets == sorted(offsets)
        assert len(set(offsets)) == len(offsets)


def test_read_after_position_resumes_exactly(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(10)})
    first = _read_all(log, RAW)
    position: dict[int, int] = {}
    for rec in first[:4]:
        position[rec.partition] = max(position.get(rec.partition, -1), rec.offset)
    rest = _read_all(log, RAW, position)
    seen = {(r.partition, r.offset) for r in first[:4]}
    assert {(r.partition, r.offset) for r in rest} == {
        (r.partition, r.offset) for r in first
    } - seen


def test_read_nothing_new_returns_empty(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(3)})
    got = _read_all(log, RAW)
    position = {r.partition: r.offset for r in got}
    assert log.read(RAW, position, 100) == []
    assert log.read("never-written", {}, 100) == []


def test_append_multiple_topics_and_checkpoint_atomically(log_factory: LogFactory) -> None:
    log = log_factory()
    assert log.load_checkpoint("ingest") is None
    log.append(
        {RAW: _records(5), DLQ: [NewRecord(value=b"bad")]}, ("ingest", {"sse_id": "a", "n": 5})
    )
    log.append({RAW: _records(2, 5)}, ("ingest", {"sse_id": "b", "n": 7}))
    assert log.load_checkpoint("ingest") == {"sse_id": "b", "n": 7}
    assert len(_read_all(log, RAW)) == 7
    assert _values(_read_all(log, DLQ)) == [b"bad"]


def test_checkpoint_and_data_survive_reopen(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(4)}, ("ingest", {"sse_id": "x"}))
    log.close()
    again = log_factory()
    assert again.load_checkpoint("ingest") == {"sse_id": "x"}
    assert len(_read_all(again, RAW)) == 4


def test_head_and_lag(log_factory: LogFactory) -> None:
    log = log_factory()
    assert log.head(RAW) == {}
    log.append({RAW: _records(8)})
    head = log.head(RAW)
    got = _read_all(log, RAW)
    assert {r.partition: r.offset for r in got} == head or all(
        head[p] >= o for p, o in {r.partition: r.offset for r in got}.items()
    )
    assert lag(head, {}) == 8
    position: dict[int, int] = {}
    for rec in got[:3]:
        position[rec.partition] = max(position.get(rec.partition, -1), rec.offset)
    assert lag(head, position) == 5


def test_consumer_group_commit_survives_restart(log_factory: LogFactory) -> None:
    log = log_factory()
    assert log.committed("bronze", RAW) == {}
    log.append({RAW: _records(6)})
    got = _read_all(log, RAW)
    position: dict[int, int] = {}
    for rec in got[:4]:
        position[rec.partition] = max(position.get(rec.partition, -1), rec.offset)
    log.commit("bronze", RAW, position)
    log.close()
    again = log_factory()
    assert again.committed("bronze", RAW) == position
    rest = _read_all(again, RAW, again.committed("bronze", RAW))
    assert len(rest) == 2
    assert {r.value for r in rest} | {r.value for r in got[:4]} == {r.value for r in got}


def test_groups_are_independent(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(2)})
    got = _read_all(log, RAW)
    log.commit("a", RAW, {got[0].partition: got[0].offset})
    assert log.committed("b", RAW) == {}


def test_offsets_never_reused_across_appends(log_factory: LogFactory) -> None:
    log = log_factory()
    for i in range(5):
        log.append({RAW: _records(3, i * 3)})
    got = _read_all(log, RAW)
    assert len({(r.partition, r.offset) for r in got}) == 15


def test_stats(log_factory: LogFactory) -> None:
    log = log_factory()
    log.append({RAW: _records(5)})
    stats = log.stats(RAW)
    assert stats.records == 5
    assert sum(1 for _ in stats.last_offsets) >= 1
    assert stats.newest is not None
    assert stats.newest.tzinfo is not None
