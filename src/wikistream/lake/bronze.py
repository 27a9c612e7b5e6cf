"""The bronze writer: event log → ``bronze.raw_events``, exactly once.

Exactly-once rests on one rule: the log position that a batch reaches is stored in the bronze
table's properties (``wikistream.log-position``) by the *same* Iceberg commit that adds the batch's
rows. A crash before the commit loses nothing (the batch is read again); a crash after it
duplicates nothing (the next run starts after the stored position). The consumer-group offset in
the log (group ``wikistream-bronze``) is committed only afterwards and is informational (lag).

Within the table ``event_id`` stays unique: a batch is deduplicated keeping the earliest log
position, then checked against the ids already stored for the same UTC days (partition-pruned,
``event_id`` column only; see :mod:`wikistream.lake.bronze_ids`).

Records that cannot become rows go to the DLQ topic with a reason. The DLQ append carries a log
checkpoint (``wikistream.bronze-dlq``) of the position it covers, so a batch read again after a
crash does not dead-letter the same record twice.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table
from pyiceberg.table.update import AssertRefSnapshotId

from wikistream.clock import to_iso, utc_now
from wikistream.errors import CommitConflictError, LakeError, OffsetOutOfRangeError
from wikistream.eventlog.base import EventLog, RecordColumns, lag, read_columns
from wikistream.lake.bronze_ids import SeenEventIds
from wikistream.lake.bronze_parse import BRONZE_ARROW_SCHEMA, Rejected, open_parser, parse_columns
from wikistream.lake.bronze_state import (
    Batch,
    BronzeStats,
    BronzeStepResult,
    Buffer,
    advance,
    dead_letter_records,
    first_per_event_id,
)
from wikistream.lake.catalog import ensure_table
from wikistream.lake.datafiles import append_rows
from wikistream.lake.maintenance import MaintenanceReport, expire_snapshots
from wikistream.lake.schemas import BRONZE
from wikistream.lake.transaction import begin

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from wikistream.settings import Settings

log = logging.getLogger(__name__)

GROUP = "wikistream-bronze"
POSITION_PROPERTY = "wikistream.log-position"
LOG_PROPERTY = "wikistream.log-identity"
IDENTITY_CHECKPOINT = "wikistream.log-identity"
DLQ_CHECKPOINT = "wikistream.bronze-dlq"
WRITER_PROPERTY = "wikistream.writer"  # snapshot summary: who made a snapshot
WRITER_NAME = "bronze"
KNOWN_WRITERS = frozenset({WRITER_NAME, "maintenance"})
# Merging manifests on append keeps planning fast with thousands of small commits a day.
WRITE_PROPERTIES = {"commit.manifest-merge.enabled": "true"}
# Records read and parsed per DuckDB query while catching up. Each query has a fixed cost (bind,
# threads, Arrow conversion): 1M records in 31 queries took ~14 % less CPU than in 100 (10k each),
# for ~130 MiB more peak RSS while draining.
READ_CHUNK = 32_768
POLL_S = 0.2
COMMIT_ATTEMPTS = 8
_STAMP = pa.timestamp("us", tz="UTC")


class BronzeWriter:
    """Reads the raw topic after the position stored in bronze and commits batches exactly once."""

    def __init__(
        self, settings: Settings, event_log: EventLog, catalog: Catalog, *, rebind_log: bool = False
    ) -> None:
        self._catalog = catalog
        self._log = event_log
        self._topic = settings.log.raw_topic
        self._dlq_topic = settings.log.dlq_topic
        self._kafka = settings.log.backend == "kafka"
        self._payload_limit = settings.ingest.dlq_payload_bytes
        self._lake = settings.lake
        self._commit_rows = settings.lake.commit_rows
        self._interval_s = settings.lake.commit_interval_s
        self._table = ensure_table(catalog, BRONZE)
        self._con = open_parser()
        self._seen = SeenEventIds()
        self._buffer = Buffer()
        # a chunk being read ahead while catching up: (after position, budget, records)
        self._ahead: tuple[dict[int, int], int, Future[RecordColumns]] | None = None
        self.stats = BronzeStats()
        self._identity = {
            "backend": settings.log.backend,
            "topic": self._topic,
            "id": self._log_id(),
        }
        self._committed: dict[int, int] = {}
        self._read_pos: dict[int, int] = {}
        self._committed = self._load_position(rebind_log)
        self._read_pos = dict(self._committed)
        dlq = self._log.load_checkpoint(DLQ_CHECKPOINT) or {}
        self._dlq_done = {int(p): int(o) for p, o in dict(dlq.get("position", {})).items()}

    # -- position ----------------------------------------------------------------------------
    @property
    def table(self) -> Table:
        """The bronze table as of the last commit this writer saw."""
        return self._table

    @property
    def position(self) -> dict[int, int]:
        """The committed log position (last offset per partition stored in bronze)."""
        return dict(self._committed)

    def _log_id(self) -> str:
        body = self._log.load_checkpoint(IDENTITY_CHECKPOINT)
        if body is None or not isinstance(body.get("id"), str):
            body = {"id": uuid.uuid4().hex, "created_at": to_iso(utc_now())}
            self._log.append({}, checkpoint=(IDENTITY_CHECKPOINT, body))
        return str(body["id"])

    def _load_position(self, rebind: bool) -> dict[int, int]:
        props = self._table.properties
        raw = props.get(POSITION_PROPERTY)
        if raw is None:
            return {}
        stored_identity = json.loads(props.get(LOG_PROPERTY, "{}"))
        if stored_identity == self._identity:
            return {int(p): int(o) for p, o in json.loads(raw).items()}
        if not rebind:
            raise LakeError(
                f"bronze.raw_events was filled from event log {stored_identity} but the "
                f"configured log is {self._identity}; if this is intended (new log, restored "
                "data dir), run `wikistream bronze --once --rebind-log` to read this log from "
                "its oldest record (events already in bronze are skipped by event_id)"
            )
        log.warning("rebinding bronze from log %s to %s", stored_identity, self._identity)
        self._commit(pa.Table.from_pylist([], BRONZE_ARROW_SCHEMA), {})
        return {}

    # -- reading -----------------------------------------------------------------------------
    def _read_some(self, ahead: ThreadPoolExecutor | None = None) -> int:
        """Read and parse up to one chunk after the read position; return records read.

        With ``ahead`` (catching up), the chunk after this one is read on that executor while
        this one is parsed.
        """
        budget = max(1, min(READ_CHUNK, self._commit_rows - self._buffer.records))
        early, self._ahead = self._ahead, None
        if early is not None and early[0] == self._read_pos and early[1] == budget:
            records = early[2].result()
        else:
            records = self._read_chunk(dict(self._read_pos), budget)
        if not len(records):
            return 0
        buf = self._buffer
        buf.unparsed.append(records)
        buf.unparsed_count += len(records)
        buf.records += len(records)
        if buf.first_at is None:
            buf.first_at = time.monotonic()
        advance(self._read_pos, records)
        if ahead is not None:
            after = dict(self._read_pos)
            self._ahead = (after, READ_CHUNK, ahead.submit(self._read_chunk, after, READ_CHUNK))
        if buf.unparsed_count >= READ_CHUNK:
            self._parse_buffered()
        return len(records)

    def _read_chunk(self, after: dict[int, int], budget: int) -> RecordColumns:
        try:
            return read_columns(self._log, self._topic, after, budget)
        except OffsetOutOfRangeError as exc:
            raise OffsetOutOfRangeError(
                f"{exc}. For bronze: `wikistream bronze --once --rebind-log` resumes at the "
                "oldest retained record; the removed records are lost"
            ) from exc

    def _parse_buffered(self) -> None:
        """Parse what was read since the last parse (one DuckDB query per chunk, not per poll)."""
        buf = self._buffer
        if not buf.unparsed:
            return
        started = time.perf_counter()
        columns = RecordColumns.concat(buf.unparsed)
        buf.unparsed.clear()
        buf.unparsed_count = 0
        parsed = parse_columns(self._con, columns, kafka=self._kafka)
        del columns  # the raw values are the biggest buffer: free them before the next read
        buf.parse_s += time.perf_counter() - started
        buf.rows.append(parsed.rows)
        buf.rejected.extend(parsed.rejected)

    def step(self, stop: threading.Event | None = None) -> BronzeStepResult:
        """Read what is available and commit when a trigger fires; returns within ~T seconds.

        Triggers: ``lake.commit_rows`` records buffered, or ``lake.commit_interval_s`` seconds
        since the first buffered record. When ``stop`` is set, what is buffered is committed and
        the step returns. With a backlog of ``commit_rows`` or more, the step catches up like
        :meth:`drain` (several commits) for up to ``lake.commit_interval_s`` seconds.
        """
        deadline = time.monotonic() + self._interval_s
        if self._backlogged(stop):
            return self._catch_up(stop, deadline)
        while True:
            got = self._read_some()
            buf = self._buffer
            if buf.records >= self._commit_rows:
                break
            if buf.first_at is not None and time.monotonic() - buf.first_at >= self._interval_s:
                break
            if stop is not None and stop.is_set():
                break
            if got == 0:
                now = time.monotonic()
                if buf.first_at is None and now >= deadline:
                    break
                until = buf.first_at + self._interval_s if buf.first_at is not None else deadline
                wait = max(0.0, min(POLL_S, until - now))
                if stop is not None:
                    stop.wait(wait)
                else:
                    time.sleep(wait)
        if self._buffer.records == 0:
            return self._idle_result()
        return self.flush()

    def _backlogged(self, stop: threading.Event | None) -> bool:
        """True when at least a commit's worth of records waits and nothing is buffered."""
        if self._buffer.records or (stop is not None and stop.is_set()):
            return False
        return lag(self._log.head(self._topic), self._read_pos) >= self._commit_rows

    def drain(self) -> BronzeStepResult:
        """Process everything available now, committing every ``commit_rows``; used by --once.

        Catching up overlaps the two halves of the work: while one batch is committed (dedup,
        Parquet write, Iceberg commit) on a helper thread, the next one is read and parsed
        (DuckDB, SQLite and Parquet release the GIL, so a second core is used). Commits stay
        one at a time and in log order. When a commit finds that another writer moved the
        stored position, the batch read meanwhile is dropped and reading resumes from there.
        """
        return self._catch_up(None, None)

    def _catch_up(self, stop: threading.Event | None, until: float | None) -> BronzeStepResult:
        """The pipelined loop of :meth:`drain`; stops reading when ``stop`` or ``until`` comes."""
        total = BronzeStepResult(position=self.position)
        pending: Future[BronzeStepResult] | None = None

        def settle() -> bool:
            """Wait for the commit in flight; False when it left the read position behind."""
            nonlocal total, pending
            if pending is None:
                return True
            done, pending = pending, None
            result = done.result()
            total = total.plus(result)
            if result.commits and self._committed == result.position:
                return True
            self._read_pos = dict(self._committed)  # moved by another writer: read again
            self._buffer = Buffer()
            return False

        with (
            ThreadPoolExecutor(1, thread_name_prefix="bronze-commit") as pool,
            ThreadPoolExecutor(1, thread_name_prefix="bronze-read") as reader,
        ):
            while True:
                late = (stop is not None and stop.is_set()) or (
                    until is not None and time.monotonic() >= until
                )
                got = 0 if late else self._read_some(reader)
                if self._buffer.records >= self._commit_rows or (got == 0 and self._buffer.records):
                    batch = self._detach()
                    if settle():
                        pending = pool.submit(self._commit_batch, batch)
                elif got == 0:
                    if pending is None:
                        break
                    settle()
        self._ahead = None
        if total.commits == 0:
            return self._idle_result()
        return total

    def _idle_result(self) -> BronzeStepResult:
        self.stats.lag = lag(self._log.head(self._topic), self._committed)
        return BronzeStepResult(lag=self.stats.lag, position=self.position)

    # -- committing --------------------------------------------------------------------------
    def flush(self) -> BronzeStepResult:
        """Commit the buffered batch (dedup, DLQ, one Iceberg transaction, then group offset)."""
        if self._buffer.records == 0:
            return self._idle_result()
        return self._commit_batch(self._detach())

    def _detach(self) -> Batch:
        """Parse what is left, hand the buffer over as a batch and start an empty one."""
        self._parse_buffered()
        buf = self._buffer
        self._buffer = Buffer()
        return Batch(buf, dict(self._read_pos))

    def _commit_batch(self, batch: Batch) -> BronzeStepResult:
        """Commit one detached batch; safe on another thread while the next one is read."""
        started = time.perf_counter()
        buf = batch.buffer
        rows = pa.concat_tables(buf.rows) if buf.rows else BRONZE_ARROW_SCHEMA.empty_table()
        oldest = pc.min(rows.column("log_ts")).as_py() if rows.num_rows else None
        unique = first_per_event_id(rows)
        dead = self._dead_letter(buf.rejected, batch.target)
        target = batch.target
        written = self._commit(unique, target)
        if written is None:  # another writer moved the position; batch discarded
            return BronzeStepResult(lag=self.stats.lag, position=self.position)
        committed_at = utc_now()
        processing_ms = (buf.parse_s + time.perf_counter() - started) * 1000.0
        try:
            self._log.commit(GROUP, self._topic, target)
        except Exception as exc:  # the table holds the truth; the group offset is for lag
            log.warning("bronze: could not commit group offset %s: %s", target, exc)
        result = BronzeStepResult(
            records_read=buf.records,
            rows_written=written,
            duplicates=rows.num_rows - written,
            dead_lettered=dead,
            commits=1,
            processing_ms=processing_ms,
            lag=lag(self._log.head(self._topic), target),
            position=target,
        )
        self.stats.record(result, committed_at, oldest, unique.column("event_timestamp"))
        self._expire_if_needed()
        return result

    def _dead_letter(self, rejected: list[Rejected], covered: dict[int, int]) -> int:
        """Append DLQ records not yet emitted, with the checkpoint that marks them emitted."""
        fresh = [r for r in rejected if r.offset > self._dlq_done.get(r.partition, -1)]
        if not fresh:
            return 0
        records = dead_letter_records(fresh, self._payload_limit)
        done = {**self._dlq_done, **covered}
        body = {"position": {str(p): o for p, o in done.items()}}
        self._log.append({self._dlq_topic: records}, checkpoint=(DLQ_CHECKPOINT, body))
        self._dlq_done = done
        return len(records)

    def _commit(self, rows: pa.Table, target: dict[int, int]) -> int | None:
        """Insert the absent rows and store ``target`` in one Iceberg commit; retry conflicts.

        Returns the rows written, or None when another writer advanced the stored position
        (this writer then resumes from that position).
        """
        for attempt in range(COMMIT_ATTEMPTS):
            fresh = self._seen.absent(self._table, rows)
            try:
                self._transact(fresh, target)
            except CommitFailedException as exc:
                self.stats.commit_conflicts += 1
                log.info("bronze commit conflict (attempt %d): %s", attempt + 1, exc)
                if not self._reload_after_conflict():
                    return None
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            self._seen.add(fresh)
            self._committed = dict(target)
            return int(fresh.num_rows)
        raise CommitConflictError(
            f"bronze commit failed {COMMIT_ATTEMPTS} times on concurrent commits to "
            f"{BRONZE.identifier}; is another process writing it? Retry later"
        )

    def _transact(self, fresh: pa.Table, target: dict[int, int]) -> None:
        table = self._table
        current = table.current_snapshot()
        position = json.dumps({str(p): o for p, o in sorted(target.items())})
        props = {POSITION_PROPERTY: position, LOG_PROPERTY: json.dumps(self._identity)}
        props.update({k: v for k, v in WRITE_PROPERTIES.items() if table.properties.get(k) != v})
        with begin(table) as tx:
            # Every commit asserts the snapshot it was planned on, also a position-only one.
            snapshot_id = current.snapshot_id if current else None
            assertion = AssertRefSnapshotId.model_validate(
                {"ref": "main", "snapshot-id": snapshot_id}
            )
            tx._stage((), (assertion,))
            tx.set_properties(props)
            if fresh.num_rows:
                stamped = fresh.set_column(
                    fresh.schema.get_field_index("bronze_processed_at"),
                    BRONZE_ARROW_SCHEMA.field("bronze_processed_at"),
                    pa.repeat(pa.scalar(utc_now(), _STAMP), fresh.num_rows),
                )
                append_rows(
                    tx,
                    stamped,
                    snapshot_properties={WRITER_PROPERTY: WRITER_NAME, POSITION_PROPERTY: position},
                )

    def _reload_after_conflict(self) -> bool:
        """Reload the table; False when another writer moved the position (buffer dropped)."""
        return self._adopt(self._catalog.load_table(BRONZE.identifier))

    def _expire_if_needed(self) -> None:
        """Keep the snapshot count near ``snapshot_max_count``: commit cost grows with it."""
        cfg = self._lake
        if len(self._table.snapshots()) <= cfg.snapshot_max_count + max(
            5, cfg.snapshot_max_count // 5
        ):
            return
        report = MaintenanceReport(table=BRONZE.identifier)
        known = {snap.snapshot_id for snap in self._table.snapshots()}
        try:
            table = expire_snapshots(
                lambda: self._catalog.load_table(BRONZE.identifier),
                max_age_h=cfg.snapshot_max_age_h,
                min_keep=cfg.snapshot_min_keep,
                max_count=cfg.snapshot_max_count,
                now=utc_now(),
                report=report,
                table=self._table,
                attempts=1,
                data_files=False,  # reading every manifest each time would grow with the table
            )
        except CommitConflictError:
            return  # next flush tries again
        self._adopt(table, known)
        log.debug("bronze: expired %d snapshots", report.snapshots_expired)

    def _adopt(self, table: Table, known: set[int] | None = None) -> bool:
        """Switch to a newer view of the table, checking what others committed meanwhile.

        Clears the event-id cache when a snapshot was made by another writer; returns False (and
        drops the buffer) when another writer moved the stored log position.
        """
        if known is None:
            known = {s.snapshot_id for s in self._table.snapshots()}
        self._table = table
        foreign = [
            s
            for s in self._table.snapshots()
            if s.snapshot_id not in known
            and (s.summary is None or s.summary.get(WRITER_PROPERTY) not in KNOWN_WRITERS)
        ]
        if foreign:
            log.warning("bronze: %d commits by another writer; reloading event ids", len(foreign))
            self._seen.clear()
        stored = self._table.properties.get(POSITION_PROPERTY)
        stored_pos = {int(p): int(o) for p, o in json.loads(stored or "{}").items()}
        if stored_pos != self._committed:
            log.warning(
                "bronze: another writer moved the position from %s to %s; resuming from there",
                self._committed,
                stored_pos,
            )
            self._seen.clear()
            self._committed = stored_pos
            self._read_pos = dict(stored_pos)
            self._buffer = Buffer()
            return False
        return True

    def close(self) -> None:
        """Release the parser connections (the log and catalog belong to the caller)."""
        self._con.close()
        self._seen.close()
