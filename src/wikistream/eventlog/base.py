"""The :class:`EventLog` protocol: the durable, ordered log between ingest and bronze.

Positions
    Every record has a ``(topic, partition, offset)``. Offsets are integers, strictly increasing
    within a partition, never reused (also after retention removed old records). The embedded
    SQLite log has one partition (0); Kafka has several.

A *position* is a mapping ``partition -> last offset already processed``. Reading "after" a
position returns only records with a greater offset, so a consumer that stores the offset of the
last record it processed resumes exactly after it (the same rule as SSE's Last-Event-ID). A
partition missing from a position means "from the oldest record still retained".
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, NamedTuple, Protocol, cast, overload, runtime_checkable

Position = Mapping[int, int]


class _NoHeaders(Mapping[str, str]):
    """The empty, immutable (so shareable) default of :attr:`NewRecord.headers`."""

    def __getitem__(self, name: str) -> str:
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


NO_HEADERS: Mapping[str, str] = _NoHeaders()


class NewRecord(NamedTuple):
    """A record to append: ``key`` routes it to a partition (Kafka) and is kept for consumers.

    A NamedTuple: ingest builds one per accepted event, and a frozen dataclass's ``__init__``
    cost ~0.5 µs more each.
    """

    value: bytes
    key: bytes | None = None
    # A shared immutable default: a dict per record would cost ingest ~1 µs per event.
    headers: Mapping[str, str] = NO_HEADERS


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A record read back from the log, with its position and append time (aware UTC)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp: datetime


class PackedValues(Sequence[bytes]):
    """Byte strings kept packed in the blobs they were read from (no object per value).

    Each segment ``(blob, ends, start, stop)`` holds values ``start..stop-1`` of ``blob``, value
    ``i`` being ``blob[ends[i]:ends[i + 1]]``; ``ends`` are native int64 (an Arrow ``large_binary``
    offsets buffer). Indexing and iterating cut the values out; a bulk consumer (bronze) hands the
    segments to Arrow instead (:attr:`segments`).
    """

    __slots__ = ("_firsts", "segments")

    def __init__(self, segments: Sequence[tuple[bytes, array[int], int, int]]) -> None:
        self.segments = [seg for seg in segments if seg[3] > seg[2]]
        self._firsts = list(
            accumulate((stop - start for _, _, start, stop in self.segments), initial=0)
        )

    def __len__(self) -> int:
        return self._firsts[-1]

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("PackedValues index out of range")
        seg = bisect_right(self._firsts, index) - 1
        blob, ends, start, _ = self.segments[seg]
        at = start + index - self._firsts[seg]
        return blob[ends[at] : ends[at + 1]]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.tolist())

    def tolist(self) -> list[bytes]:
        """Every value cut out (a list comprehension per segment: no generator per value)."""
        out: list[bytes] = []
        for blob, ends, start, stop in self.segments:
            out += [
                blob[a:b] for a, b in zip(ends[start:stop], ends[start + 1 : stop + 1], strict=True)
            ]
        return out

    @classmethod
    def concat(cls, parts: Sequence[PackedValues]) -> PackedValues:
        """One sequence holding ``parts`` in order, still packed."""
        return cls([seg for part in parts for seg in part.segments])


@dataclass(frozen=True, slots=True)
class RecordColumns:
    """Records of one read as parallel columns: the bulk form of a ``list[LogRecord]``.

    Column ``i`` of every sequence describes the same record; ``timestamps_us`` are append times
    in microseconds since the epoch (UTC). A bulk consumer (the bronze writer) hands the columns
    to Arrow without building one Python object per record.
    """

    topic: str
    partitions: Sequence[int]
    offsets: Sequence[int]
    keys: Sequence[bytes | None]
    values: Sequence[bytes]
    timestamps_us: Sequence[int]

    def __len__(self) -> int:
        return len(self.offsets)

    def record(self, index: int) -> LogRecord:
        """The record at ``index`` as a :class:`LogRecord`."""
        stamp = datetime.fromtimestamp(self.timestamps_us[index] / 1_000_000, tz=UTC)
        return LogRecord(
            self.topic,
            self.partitions[index],
            self.offsets[index],
            self.keys[index],
            self.values[index],
            stamp,
        )

    def records(self) -> list[LogRecord]:
        """Every record as a :class:`LogRecord` (for slow paths; costs an object per record)."""
        return [self.record(i) for i in range(len(self))]

    @classmethod
    def of(cls, topic: str, records: Sequence[LogRecord]) -> RecordColumns:
        """The columns of ``records`` (all of ``topic``)."""
        return cls(
            topic,
            [r.partition for r in records],
            [r.offset for r in records],
            [r.key for r in records],
            [r.value for r in records],
            [_epoch_us(r.timestamp) for r in records],
        )

    @classmethod
    def concat(cls, parts: Sequence[RecordColumns]) -> RecordColumns:
        """One set of columns holding ``parts`` in order (all of one topic)."""
        if len(parts) == 1:
            return parts[0]
        topic = parts[0].topic if parts else ""
        values: Sequence[bytes]
        if parts and all(isinstance(p.values, PackedValues) for p in parts):
            values = PackedValues.concat([cast("PackedValues", p.values) for p in parts])
        else:
            values = [x for p in parts for x in p.values]
        return cls(
            topic,
            [x for p in parts for x in p.partitions],
            [x for p in parts for x in p.offsets],
            [x for p in parts for x in p.keys],
            values,
            [x for p in parts for x in p.timestamps_us],
        )


def _epoch_us(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TopicStats:
    """Size of one topic: records retained, the oldest/newest offsets and append times."""

    topic: str
    records: int
    first_offsets: Mapping[int, int]
    last_offsets: Mapping[int, int]
    oldest: datetime | None
    newest: datetime | None
    size_bytes: int | None


@runtime_checkable
class EventLog(Protocol):
    """A durable, ordered, multi-topic log with consumer groups and an atomic checkpoint."""

    def append(
        self,
        batch: Mapping[str, Sequence[NewRecord]],
        checkpoint: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Append records to topics and replace one named checkpoint, all or nothing.

        Records of one topic keep their order (per partition for keyed Kafka records). When this
        returns, the records and the checkpoint are durable: a crash right after loses neither.
        When it raises, none of them were stored (Kafka: were committed), so the caller may
        retry the same call. The checkpoint is a JSON-able mapping; ingest keeps its SSE resume id
        and counters there so that they always match the appended records.
        """
        ...

    def load_checkpoint(self, name: str) -> dict[str, Any] | None:
        """Return the last checkpoint stored under ``name`` by :meth:`append`, or None."""
        ...

    def read(self, topic: str, after: Position, max_records: int) -> list[LogRecord]:
        """Return up to ``max_records`` records with offsets after ``after``, oldest first.

        Never blocks waiting for new records: an empty list means "nothing new now". Records of a
        partition come in offset order. Raises :class:`~wikistream.errors.OffsetOutOfRangeError`
        when records right after ``after`` were already removed by retention.
        """
        ...

    def commit(self, group: str, topic: str, position: Position) -> None:
        """Store ``position`` (last processed offset per partition) for a consumer group."""
        ...

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Return the group's committed position (empty when it never committed)."""
        ...

    def head(self, topic: str) -> dict[int, int]:
        """Return the offset of the newest record per partition (absent: partition empty)."""
        ...

    def stats(self, topic: str) -> TopicStats:
        """Return record count, offset range, age range and size of a topic."""
        ...

    def close(self) -> None:
        """Release connections; pending appends are already durable."""
        ...


@runtime_checkable
class ColumnarEventLog(Protocol):
    """An event log that can also return reads as :class:`RecordColumns` (optional capability)."""

    def read_columns(self, topic: str, after: Position, max_records: int) -> RecordColumns:
        """Same contract as :meth:`EventLog.read`, records returned as columns."""
        ...


def read_columns(log: EventLog, topic: str, after: Position, max_records: int) -> RecordColumns:
    """Read like :meth:`EventLog.read`, as columns (natively when the log supports it)."""
    if isinstance(log, ColumnarEventLog):
        return log.read_columns(topic, after, max_records)
    return RecordColumns.of(topic, log.read(topic, after, max_records))


def lag(head: Mapping[int, int], position: Mapping[int, int]) -> int:
    """Records between a consumer's position and the head, summed over partitions."""
    return sum(max(0, last - position.get(partition, -1)) for partition, last in head.items())
