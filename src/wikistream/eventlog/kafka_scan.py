"""Reading Kafka partitions at explicit offsets: the incremental reader and bounded scans.

Two broker facts shape this module. Transaction markers occupy offsets, so "high watermark - 1"
is not always a record: the newest record is found by reading the tail. And some brokers (tansu
0.6) answer ListOffsets(latest) with the start of the last batch, so an "end" learned from
ListOffsets is only a lower bound: scans always read until the partition-EOF event, whose
offset is the true end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    Message,
    TopicPartition,
)

from wikistream.clock import utc_now
from wikistream.errors import EventLogError, EventLogUnavailableError, OffsetOutOfRangeError
from wikistream.eventlog.base import LogRecord, Position

log = logging.getLogger(__name__)

_CONSUME_BATCH = 500
_IDLE_WAIT_S = 0.05
_OUT_OF_RANGE = (KafkaError.OFFSET_OUT_OF_RANGE, KafkaError._AUTO_OFFSET_RESET)
_UNKNOWN_TOPIC = (
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError._UNKNOWN_PARTITION,
)
_BROKER_DOWN = (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT)


def to_log_record(topic: str, msg: Message) -> LogRecord:
    """Convert a consumed message into a :class:`LogRecord` of the logical ``topic``."""
    ts_type, ts_ms = msg.timestamp()
    stamp = utc_now() if ts_type == TIMESTAMP_NOT_AVAILABLE else _ms_to_dt(ts_ms)
    key = msg.key()
    return LogRecord(
        topic=topic,
        partition=int(msg.partition() or 0),
        offset=int(msg.offset() or 0),
        key=bytes(key) if key is not None else None,
        value=bytes(msg.value() or b""),
        timestamp=stamp,
    )


def _ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


def take(consumer: Consumer, limit: int, timeout: float) -> list[Message]:
    """Return what is queued (up to ``limit``) at once, else wait up to ``timeout`` for one.

    ``Consumer.consume`` blocks until ``limit`` messages or the timeout, whichever is later to
    arrive; reads must return as soon as anything is there.
    """
    batch = consumer.consume(limit, 0)
    if batch:
        return list(batch)
    msg = consumer.poll(timeout)
    return [msg] if msg is not None else []


def check_position(topic: str, after: Position, lows: Mapping[int, int]) -> None:
    """Raise :class:`OffsetOutOfRangeError` if a partition's next record was already removed."""
    for partition, last in sorted(after.items()):
        low = lows.get(partition)
        # -1 means "nothing processed yet", i.e. from the oldest record (as in SQLite).
        if low is not None and last >= 0 and last + 1 < low:
            raise OffsetOutOfRangeError(
                f"topic {topic!r} partition {partition}: offsets {last + 1}..{low - 1} were "
                f"removed by retention before they were read (the log now starts at {low}); "
                "to accept the gap and resume at the log start, run `wikistream bronze --once "
                "--rebind-log` (bronze keeps its own position)"
            )


def raise_for_error(topic: str, err: KafkaError) -> None:
    """Turn a consumer error event into a WikiStream error; transient ones only log."""
    code = err.code()
    if code in _OUT_OF_RANGE:
        raise OffsetOutOfRangeError(
            f"topic {topic!r}: the broker says the requested offset is out of range "
            f"({err.str()}); the records were removed by retention or the topic was "
            "recreated; to resume at the log start run `wikistream bronze --once --rebind-log`"
        )
    if code in _UNKNOWN_TOPIC:
        raise EventLogError(
            f"topic {topic!r} vanished while reading ({err.str()}); was it deleted? "
            "check with: kafka-topics --describe"
        )
    if err.fatal():
        raise EventLogUnavailableError(f"Kafka consumer failed fatally on {topic!r}: {err.str()}")
    log.debug("transient Kafka consumer error on %s: %s", topic, err.str())


def scan(
    consumer: Consumer,
    kafka_topic: str,
    starts: Mapping[int, int],
    deadline: float,
    *,
    stop: Callable[[int], bool] = lambda _p: False,
) -> Iterator[Message]:
    """Yield records of ``starts``' partitions from the given offsets up to their current end.

    Ends when every partition reported EOF or ``stop(partition)`` became true for it; raises
    :class:`EventLogUnavailableError` at ``deadline`` (monotonic seconds).
    """
    if not starts:
        return
    consumer.assign([TopicPartition(kafka_topic, p, o) for p, o in starts.items()])
    open_parts = set(starts)
    try:
        while open_parts:
            if time.monotonic() > deadline:
                raise EventLogUnavailableError(
                    f"reading topic {kafka_topic!r} partitions {sorted(open_parts)} did not "
                    "reach their end in time; is the broker reachable and healthy?"
                )
            for msg in take(consumer, _CONSUME_BATCH, 0.1):
                part = int(msg.partition() or 0)
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        open_parts.discard(part)
                    else:
                        raise_for_error(kafka_topic, err)
                    continue
                if part in open_parts:
                    yield msg
                    if stop(part):
                        open_parts.discard(part)
    finally:
        consumer.unassign()  # no background fetching between scans


def find_last(
    consumer: Consumer,
    kafka_topic: str,
    lows: Mapping[int, int],
    ends: Mapping[int, int],
    deadline: float,
    match: Callable[[Message], bool] = lambda _m: True,
) -> dict[int, Message]:
    """Return the newest matching record per partition, reading ever longer tails backwards.

    ``ends`` may underestimate (see module docstring); the scan still reads to the true end.
    """
    found: dict[int, Message] = {}
    pending = set(lows)
    window = 16
    while pending:
        starts = {p: max(lows[p], ends.get(p, 0) - window) for p in pending}
        last: dict[int, Message] = {}
        for msg in scan(consumer, kafka_topic, starts, deadline):
            if match(msg):
                last[int(msg.partition() or 0)] = msg
        for part in list(pending):
            if part in last:
                found[part] = last[part]
                pending.discard(part)
            elif starts[part] <= lows[part]:
                pending.discard(part)
        window *= 8
    return found


class ConnectionWatch:
    """A consumer ``error_cb`` remembering that the broker connection went down."""

    def __init__(self) -> None:
        self.down = False

    def __call__(self, err: KafkaError) -> None:
        if err.code() in _BROKER_DOWN or err.fatal():
            self.down = True
        log.debug("Kafka consumer error: %s", err.str())


class TopicReader:
    """One topic's consumer that keeps its assignment while reads continue where the last ended.

    Re-assigning throws away librdkafka's prefetched records, so a read whose ``after`` equals
    the position the previous read ended at just keeps consuming.
    """

    def __init__(
        self, consumer: Consumer, topic: str, kafka_topic: str, watch: ConnectionWatch
    ) -> None:
        self.consumer = consumer
        self.watch = watch
        self.topic = topic
        self.kafka_topic = kafka_topic
        self._expected: dict[int, int] | None = None
        self._at_end: set[int] = set()
        self.partitions: set[int] = set()
        self.assigned_at = time.monotonic()

    def continues(self, after: Position) -> bool:
        """True when ``after`` is exactly where the previous read left off."""
        return self._expected is not None and dict(after) == self._expected

    def assign(self, after: Position, lows: Mapping[int, int]) -> None:
        """Start reading after ``after`` (partitions missing from it: at their ``lows``)."""
        starts = {p: (after[p] + 1 if p in after else low) for p, low in lows.items()}
        self.consumer.assign([TopicPartition(self.kafka_topic, p, o) for p, o in starts.items()])
        self._expected = dict(after)
        self._at_end = set()
        self.partitions = set(starts)
        self.assigned_at = time.monotonic()

    def reset(self) -> None:
        """Forget the assignment; the next read re-assigns from its ``after``."""
        self._expected = None
        self._at_end = set()

    def read(self, max_records: int, wait_s: float) -> tuple[list[LogRecord], bool]:
        """Consume up to ``max_records``; return them and whether the broker seems unreachable.

        The second value stays true from a connection error until a record or EOF arrives, so
        a broker outage is not mistaken for "nothing new" on every later read.
        """
        assert self._expected is not None, "assign() before read()"
        out: list[LogRecord] = []
        deadline = time.monotonic() + wait_s
        idle_deadline = time.monotonic() + _IDLE_WAIT_S
        try:
            while len(out) < max_records:
                now = time.monotonic()
                caught_up = self.partitions <= self._at_end
                if now >= deadline or (caught_up and (out or now >= idle_deadline)):
                    break
                limit = min(deadline, idle_deadline) if caught_up else deadline
                batch = take(
                    self.consumer,
                    min(_CONSUME_BATCH, max_records - len(out)),
                    max(0.0, min(0.1, limit - now)),
                )
                for msg in batch:
                    part = int(msg.partition() or 0)
                    err = msg.error()
                    if err is None:
                        self.watch.down = False
                        self._at_end.discard(part)
                        out.append(to_log_record(self.topic, msg))
                        self._expected[part] = out[-1].offset
                    elif err.code() == KafkaError._PARTITION_EOF:
                        self.watch.down = False
                        self._at_end.add(part)
                    elif err.code() in _BROKER_DOWN:
                        self.watch.down = True
                    else:
                        raise_for_error(self.kafka_topic, err)
        except BaseException:
            self.reset()
            raise
        return out, self.watch.down
