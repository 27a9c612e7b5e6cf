"""What the bronze writer holds between reads and commits, and what it reports."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from wikistream.clock import to_iso, utc_now
from wikistream.eventlog.base import NewRecord, RecordColumns
from wikistream.ingest.envelope import dlq_record
from wikistream.lake.bronze_parse import Rejected
from wikistream.lake.steps import sample_times


@dataclass(frozen=True, slots=True)
class BronzeStepResult:
    """What one :meth:`BronzeWriter.step` or :meth:`BronzeWriter.drain` did."""

    records_read: int = 0
    rows_written: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    commits: int = 0
    processing_ms: float = 0.0
    lag: int = 0
    position: Mapping[int, int] = field(default_factory=dict)

    def plus(self, other: BronzeStepResult) -> BronzeStepResult:
        """Add ``other`` (a later result) to this one."""
        return BronzeStepResult(
            records_read=self.records_read + other.records_read,
            rows_written=self.rows_written + other.rows_written,
            duplicates=self.duplicates + other.duplicates,
            dead_lettered=self.dead_lettered + other.dead_lettered,
            commits=self.commits + other.commits,
            processing_ms=self.processing_ms + other.processing_ms,
            lag=other.lag,
            position=other.position,
        )


@dataclass
class BronzeStats:
    """Running totals for metrics (``rows_committed`` is the seed's BronzeRecordsProcessed)."""

    records_read: int = 0
    rows_committed: int = 0
    duplicates_skipped: int = 0
    dead_lettered: int = 0
    batches: int = 0
    commit_conflicts: int = 0
    last_commit_at: datetime | None = None
    last_processing_ms: float | None = None
    last_event_age_s: float | None = None
    lag: int = 0
    # up to 100 event times (epoch s) of the last committed batch, for latency histograms
    last_event_times: list[float] = field(default_factory=list)
    # processing times of the latest batches (newest last), for the batch-duration histogram
    recent_processing_ms: deque[float] = field(default_factory=lambda: deque(maxlen=100))

    def record(
        self,
        result: BronzeStepResult,
        committed_at: datetime,
        oldest: datetime | None,
        event_times: pa.ChunkedArray,
    ) -> None:
        """Count one commit (``oldest``: log time of its oldest record)."""
        self.records_read += result.records_read
        self.rows_committed += result.rows_written
        self.duplicates_skipped += result.duplicates
        self.dead_lettered += result.dead_lettered
        self.batches += 1
        self.last_commit_at = committed_at
        self.last_processing_ms = result.processing_ms
        self.recent_processing_ms.append(round(result.processing_ms, 1))
        self.last_event_age_s = (committed_at - oldest).total_seconds() if oldest else None
        self.last_event_times = sample_times(event_times)
        self.lag = result.lag


@dataclass
class Buffer:
    """Records read (parsed or not yet) since the last commit."""

    rows: list[pa.Table] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unparsed: list[RecordColumns] = field(default_factory=list)
    unparsed_count: int = 0
    records: int = 0
    parse_s: float = 0.0
    first_at: float | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """A buffer handed over for committing, with the log position it reaches."""

    buffer: Buffer
    target: dict[int, int]


def advance(position: dict[int, int], records: RecordColumns) -> None:
    # offsets increase within a partition (EventLog.read), so the last one per partition is the max
    last = dict(zip(records.partitions, records.offsets, strict=True))
    for partition, offset in last.items():
        if offset > position.get(partition, -1):
            position[partition] = offset


def first_per_event_id(rows: pa.Table) -> pa.Table:
    """Drop repeated event ids in a batch, keeping the earliest log position; drop ``log_ts``."""
    body = rows.drop_columns(["log_ts"])
    if rows.num_rows == 0 or pc.count_distinct(rows.column("event_id")).as_py() == rows.num_rows:
        return body
    keys = rows.select(["event_id", "log_ts", "log_partition", "log_offset"]).append_column(
        "i", pa.array(range(rows.num_rows), pa.int64())
    )
    ordered = keys.sort_by(
        [("log_ts", "ascending"), ("log_partition", "ascending"), ("log_offset", "ascending")]
    )
    first = ordered.group_by("event_id", use_threads=False).aggregate([("i", "first")])
    picks = pc.sort_indices(first.column("i_first"))
    return body.take(pc.take(first.column("i_first"), picks))


def dead_letter_records(rejected: list[Rejected], payload_limit: int) -> list[NewRecord]:
    """DLQ records (stage ``bronze``) keyed by the log position of each rejected record."""
    received = to_iso(utc_now())
    return [
        dlq_record(
            raw_payload=r.value.decode("utf-8", "replace"),
            error_type=r.error_type,
            error=r.error,
            sse_id=r.sse_id,
            received_at=received,
            payload_limit=payload_limit,
            original_event=r.original_event,
            stage="bronze",
        )._replace(key=f"{r.topic}/{r.partition}/{r.offset}".encode())
        for r in rejected
    ]
