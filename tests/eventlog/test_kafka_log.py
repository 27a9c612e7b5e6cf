"""Kafka-specific behaviour of KafkaEventLog against a real tansu broker.

Appends run in transactional mode unless a test says otherwise (``mode`` parameter).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from tests.kafka_broker import TansuBroker, kafka_broker
from wikistream.errors import EventLogError, EventLogUnavailableError, OffsetOutOfRangeError
from wikistream.eventlog.base import LogRecord, NewRecord
from wikistream.eventlog.config import KafkaSettings
from wikistream.eventlog.kafka import KafkaEventLog
from wikistream.eventlog.kafka_scan import check_position, raise_for_error
from wikistream.eventlog.kafka_stats import topic_stats
from wikistream.eventlog.kafka_topics import topic_config

pytestmark = pytest.mark.kafka
__all__ = ["kafka_broker"]

RAW = "raw-events"


def _settings(bootstrap: str, **kw: object) -> KafkaSettings:
    base: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "topic_prefix": f"k{uuid.uuid4().hex[:10]}.",
        "append_timeout_s": 10.0,
        "read_wait_s": 5.0,  # only the worst case: reads return at EOF (2 shared cores here)
    }
    base.update(kw)
    return KafkaSettings.model_validate(base)


@pytest.fixture
def open_log(kafka_broker: str) -> Iterator[type[KafkaEventLog]]:
    """Open KafkaEventLogs on the session broker; all are closed after the test."""
    opened: list[KafkaEventLog] = []

    def make(settings: KafkaSettings | None = None, **kw: object) -> KafkaEventLog:
        log = KafkaEventLog(settings or _settings(kafka_broker, **kw), retention_days=7.0)
        opened.append(log)
        return log

    yield make  # type: ignore[misc]
    for log in opened:
        log.close()


def _records(n: int, start: int = 0) -> list[NewRecord]:
    return [
        NewRecord(value=f"v{i}".encode(), key=f"k{i}".encode()) for i in range(start, start + n)
    ]


def _drain(log: KafkaEventLog, topic: str, page: int = 500) -> list[LogRecord]:
    position: dict[int, int] = {}
    out: list[LogRecord] = []
    while True:
        batch = log.read(topic, position, page)
        if not batch:
            return out
        out.extend(batch)
        for rec in batch:
            position[rec.partition] = rec.offset


def _read_until_error(log: KafkaEventLog, position: dict[int, int], wait_s: float) -> Exception:
    """Read until the log raises (an outage must not look like "nothing new" forever)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            assert log.read(RAW, position, 10) == []
        except EventLogError as exc:
            return exc
    raise AssertionError(f"read() kept returning [] for {wait_s}s with the broker down")


def test_committed_offsets_are_visible_to_kafka_tools(open_log, kafka_broker: str) -> None:
    log = open_log()
    log.append({RAW: _records(20)})
    got = _drain(log, RAW)
    position = {r.partition: r.offset for r in got}
    log.commit("bronze", RAW, position)
    plain = Consumer({"bootstrap.servers": kafka_broker, "group.id": log.kafka_group("bronze")})
    try:
        tps = plain.committed(
            [TopicPartition(log.kafka_topic(RAW), p) for p in position], timeout=10
        )
    finally:
        plain.close()
    # Kafka stores the *next* offset to read, so kafka-consumer-groups shows the true lag.
    assert {tp.partition: tp.offset for tp in tps} == {p: o + 1 for p, o in position.items()}


def test_offsets_committed_by_a_kafka_tool_are_read_back(open_log, kafka_broker: str) -> None:
    log = open_log()
    log.append({RAW: _records(3)})
    tool = Consumer({"bootstrap.servers": kafka_broker, "group.id": log.kafka_group("ops")})
    try:
        tool.commit(offsets=[TopicPartition(log.kafka_topic(RAW), 0, 5)], asynchronous=False)
    finally:
        tool.close()
    assert log.committed("ops", RAW) == {0: 4}


def test_topics_are_created_with_settings(open_log, kafka_broker: str) -> None:
    log = open_log(partitions=3)
    log.append({RAW: _records(2)}, ("ingest", {"n": 2}))
    from confluent_kafka.admin import AdminClient

    meta = AdminClient({"bootstrap.servers": kafka_broker}).list_topics(timeout=10)
    assert len(meta.topics[log.kafka_topic(RAW)].partitions) == 3
    assert len(meta.topics[log.kafka_topic("wikistream-checkpoints")].partitions) == 1


def test_topic_config_retention_and_compaction() -> None:
    settings = KafkaSettings(bootstrap_servers="x:9092", replication_factor=3)
    data = topic_config(
        settings, retention_ms=7 * 86_400_000, retention_bytes=None, compacted=False
    )
    assert data == {
        "cleanup.policy": "delete",
        "retention.ms": "604800000",
        "min.insync.replicas": "2",
    }
    ckpt = topic_config(settings, retention_ms=1, retention_bytes=10, compacted=True)
    assert ckpt == {"cleanup.policy": "compact", "min.insync.replicas": "2"}
    single = KafkaSettings(bootstrap_servers="x:9092", partitions=3)
    sized = topic_config(single, retention_ms=1, retention_bytes=9000, compacted=False)
    assert sized["min.insync.replicas"] == "1"
    assert sized["retention.bytes"] == "3000"  # Kafka's limit is per partition


def test_topics_lists_this_prefix_only(open_log) -> None:
    log = open_log()
    other = open_log()
    log.append({RAW: _records(1), "dlq-events": _records(1)}, ("ingest", {"n": 1}))
    other.append({"elsewhere": _records(1)})
    assert log.topics() == ["dlq-events", RAW]


def test_same_key_lands_in_same_partition(open_log) -> None:
    log = open_log()
    log.append({RAW: [NewRecord(b"a1", key=b"page-1"), NewRecord(b"b1", key=b"page-2")]})
    log.append({RAW: [NewRecord(b"a2", key=b"page-1"), NewRecord(b"b2", key=b"page-2")]})
    got = _drain(log, RAW)
    parts: dict[bytes | None, set[int]] = {}
    for rec in got:
        parts.setdefault(rec.key, set()).add(rec.partition)
    assert {k: len(v) for k, v in parts.items()} == {b"page-1": 1, b"page-2": 1}
    by_key = {k: [r.value for r in got if r.key == k] for k in parts}
    assert by_key == {b"page-1": [b"a1", b"a2"], b"page-2": [b"b1", b"b2"]}


def test_paged_reads_continue_and_see_new_appends(open_log) -> None:
    log = open_log()
    log.append({RAW: _records(40)})
    position: dict[int, int] = {}
    seen: list[LogRecord] = []
    for _ in range(3):
        page = log.read(RAW, position, 7)
        assert 0 < len(page) <= 7
        seen.extend(page)
        for rec in page:
            position[rec.partition] = rec.offset
    log.append({RAW: _records(5, 40)})
    deadline = time.monotonic() + 10
    while len(seen) < 45 and time.monotonic() < deadline:
        page = log.read(RAW, position, 7)
        seen.extend(page)
        for rec in page:
            position[rec.partition] = rec.offset
    assert sorted(r.value for r in seen) == sorted(f"v{i}".encode() for i in range(45))
    for part in {r.partition for r in seen}:
        offsets = [r.offset for r in seen if r.partition == part]
        assert offsets == sorted(set(offsets))


def test_read_when_caught_up_returns_quickly(open_log) -> None:
    log = open_log(read_wait_s=10.0)
    log.append({RAW: _records(4)})
    got = _drain(log, RAW)
    position = {r.partition: r.offset for r in got}
    started = time.monotonic()
    assert log.read(RAW, position, 100) == []
    assert time.monotonic() - started < 2.0  # far below read_wait_s


def test_uncommitted_transaction_is_invisible_until_commit(open_log, kafka_broker: str) -> None:
    log = open_log(partitions=1)
    log.append({RAW: _records(1)})
    first = _drain(log, RAW)
    position = {0: first[-1].offset}
    other = Producer({"bootstrap.servers": kafka_broker, "transactional.id": uuid.uuid4().hex})
    other.init_transactions(10)
    other.begin_transaction()
    other.produce(log.kafka_topic(RAW), b"pending", b"k")
    other.flush(10)
    assert log.read(RAW, position, 10) == []
    other.commit_transaction(10)
    deadline = time.monotonic() + 10
    got: list[LogRecord] = []
    while not got and time.monotonic() < deadline:
        got = log.read(RAW, position, 10)
    assert [r.value for r in got] == [b"pending"]


@pytest.mark.parametrize("mode", ["transactional", "idempotent"])
def test_oversized_record_fails_the_whole_append(open_log, mode: str) -> None:
    # linger keeps the small record queued, so the failed append provably sends nothing.
    log = open_log(append_mode=mode, linger_ms=2000)
    log.append({RAW: _records(1)}, ("ingest", {"n": 1}))
    huge = NewRecord(value=b"x" * 2_000_000, key=b"big")
    with pytest.raises(EventLogError, match="exceeds the Kafka message size limit"):
        log.append({RAW: [NewRecord(b"small", b"s"), huge]}, ("ingest", {"n": 3}))
    assert log.load_checkpoint("ingest") == {"n": 1}
    log.append({RAW: _records(1, 1)}, ("ingest", {"n": 2}))
    assert log.load_checkpoint("ingest") == {"n": 2}
    assert sorted(r.value for r in _drain(log, RAW)) == [b"v0", b"v1"]


def test_checkpoint_must_be_json(open_log) -> None:
    log = open_log()
    with pytest.raises(EventLogError, match="not JSON-serialisable"):
        log.append({RAW: _records(1)}, ("ingest", {"when": object()}))
    assert log.load_checkpoint("ingest") is None


def test_latest_checkpoint_found_behind_many_others(open_log) -> None:
    log = open_log()
    log.append({}, ("ingest", {"n": 0}))
    for i in range(60):
        log.append({RAW: _records(1, i)}, ("bronze-dlq", {"i": i}))
    assert log.load_checkpoint("ingest") == {"n": 0}
    assert log.load_checkpoint("bronze-dlq") == {"i": 59}
    assert log.load_checkpoint("never") is None


def test_checkpoint_topic_value_that_is_not_an_object_is_an_error(open_log, kafka_broker) -> None:
    log = open_log()
    log.append({}, ("ingest", {"n": 1}))
    producer = Producer({"bootstrap.servers": kafka_broker})
    producer.produce(log.kafka_topic("wikistream-checkpoints"), json.dumps([1]).encode(), b"ingest")
    producer.flush(10)
    with pytest.raises(EventLogError, match="not a JSON object"):
        log.load_checkpoint("ingest")


def test_head_skips_transaction_markers(open_log) -> None:
    log = open_log(partitions=1)
    for i in range(3):
        log.append({RAW: _records(2, 2 * i)})
    got = _drain(log, RAW)
    assert log.head(RAW) == {0: got[-1].offset}
    assert got[-1].offset > 5  # markers really took offsets: 6 records, 3 commits
    stats = log.stats(RAW)
    assert stats.records == 6
    assert stats.size_bytes == sum(len(r.value) for r in got)


def test_stats_beyond_exact_limit_is_an_upper_bound(open_log) -> None:
    log = open_log(partitions=1)
    for i in range(3):
        log.append({RAW: _records(2, 2 * i)})
    topic = log.kafka_topic(RAW)
    lows, ends = log.offsets(topic)
    stats = topic_stats(
        log.scanner(topic), RAW, topic, lows, ends, time.monotonic() + 10, exact_limit=1
    )
    assert stats.records >= 6
    assert stats.size_bytes is None
    assert stats.first_offsets == {0: 0}
    assert stats.oldest is not None
    assert stats.newest is not None
    assert stats.oldest <= stats.newest


def test_position_before_log_start_is_out_of_range() -> None:
    check_position(RAW, {0: 9, 1: 3}, {0: 10, 1: 0})
    check_position(RAW, {0: -1}, {0: 10})  # nothing processed yet: start at the oldest
    with pytest.raises(OffsetOutOfRangeError, match=r"offsets 4\.\.9 were removed by retention"):
        check_position(RAW, {0: 9, 1: 3}, {0: 10, 1: 10})


def test_broker_out_of_range_error_is_translated() -> None:
    with pytest.raises(OffsetOutOfRangeError, match="out of range"):
        raise_for_error(RAW, KafkaError(KafkaError.OFFSET_OUT_OF_RANGE))
    with pytest.raises(EventLogError, match="vanished"):
        raise_for_error(RAW, KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
    raise_for_error(RAW, KafkaError(KafkaError._TRANSPORT))  # transient: no error


def test_unreachable_broker_is_a_retryable_error() -> None:
    from tests.kafka_broker import free_port

    settings = _settings(f"127.0.0.1:{free_port()}", request_timeout_s=1.5)
    log = KafkaEventLog(settings, retention_days=7.0)  # opening never touches the network
    try:
        with pytest.raises(EventLogUnavailableError, match="check that the broker is up") as exc:
            log.read(RAW, {}, 10)
        assert exc.value.retryable
    finally:
        log.close()


@pytest.mark.parametrize("mode", ["transactional", "idempotent"])
def test_append_fails_loudly_when_broker_dies_and_recovers(mode: str) -> None:
    broker = TansuBroker()
    broker.start()
    try:
        settings = _settings(
            broker.bootstrap,
            append_mode=mode,
            append_timeout_s=3.0,
            transaction_timeout_s=10.0,
            request_timeout_s=3.0,
        )
        log = KafkaEventLog(settings, retention_days=7.0)
        log.append({RAW: _records(2)}, ("ingest", {"n": 2}))
        position = {r.partition: r.offset for r in _drain(log, RAW)}
        broker.stop()
        assert isinstance(_read_until_error(log, position, 20), EventLogUnavailableError)
        started = time.monotonic()
        with pytest.raises(EventLogUnavailableError):
            log.append({RAW: _records(2, 2)}, ("ingest", {"n": 4}))
        assert time.monotonic() - started < 15
        restarted = TansuBroker(port=broker.port)  # same address, empty memory
        restarted.start()
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    log.append({RAW: _records(2, 2)}, ("ingest", {"n": 4}))
                    break
                except EventLogUnavailableError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            assert log.load_checkpoint("ingest") == {"n": 4}
        finally:
            log.close()
            restarted.stop()
    finally:
        broker.stop()


def test_missing_confluent_kafka_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['confluent_kafka'] = None\n"
        "from wikistream.settings import load_settings\n"
        "from wikistream.eventlog.registry import open_event_log\n"
        "from wikistream.errors import DependencyMissingError\n"
        f"s = load_settings(overrides={{'data_dir': {str(tmp_path)!r}, 'log': {{'backend': "
        "'kafka', 'kafka': {'bootstrap_servers': '127.0.0.1:1'}}})\n"
        "try:\n    open_event_log(s)\nexcept DependencyMissingError as e:\n    print(e)\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    assert "pip install 'wikistream[kafka]'" in out.stdout
    assert "confluent_kafka" in out.stdout


def test_registry_opens_kafka_log_from_settings(tmp_path: Path, kafka_broker: str) -> None:
    from wikistream.eventlog.registry import open_event_log
    from wikistream.settings import load_settings

    prefix = f"r{uuid.uuid4().hex[:8]}."
    settings = load_settings(
        overrides={
            "data_dir": tmp_path,
            "log": {
                "backend": "kafka",
                "kafka": {"bootstrap_servers": kafka_broker, "topic_prefix": prefix},
            },
        }
    )
    log = open_event_log(settings)
    try:
        assert isinstance(log, KafkaEventLog)
        log.append({RAW: _records(3)}, ("ingest", {"n": 3}))
        assert log.load_checkpoint("ingest") == {"n": 3}
        assert len(_drain(log, RAW)) == 3  # type: ignore[arg-type]
    finally:
        log.close()


def test_use_after_close_is_a_clear_error(open_log) -> None:
    log = open_log()
    log.close()
    with pytest.raises(EventLogError, match="was closed"):
        log.append({RAW: _records(1)})
