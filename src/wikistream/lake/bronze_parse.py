"""Turn event-log records (ingest envelopes) into bronze rows, or into reasons for the DLQ.

The hot path is one DuckDB query over an Arrow batch: JSON parsing and every derivation of
SEED-FACTS §2.2 run vectorised. Records the query cannot use (bad envelope JSON, ``data`` that is
not a JSON object …) drop out of it; they are rare, so :func:`classify_reject` explains them one by
one in Python. Rows that parse but lack an ``event_id`` or a usable event time come back with a
``reject_reason`` so the caller can dead-letter them too — never a junk row, never a constant id.

Derivations (seed §2.2, with the seed's defects fixed):

* ``event_id``: the envelope ``id``, else ``meta.id``; empty or missing in both ⇒ DLQ.
* ``event_timestamp``: ``timestamp`` (unix seconds, int or float) when it lies in 2001–2100, else
  ``meta.dt`` in any ISO-8601 form (``Z``, offsets, fractional seconds; no offset = UTC), same
  range; neither ⇒ DLQ ``no_event_time``.
* ``event_date``/``event_hour``: computed from the UTC epoch, independent of any session time zone.
* ``rc_id`` −1, ``event_type`` ``'unknown'``, ``is_bot`` false when missing (as the seed).
* ``length_delta`` = new − old when both are present (64-bit arithmetic, NULL outside INT32).
* ``kafka_*``: the log record's topic/partition/offset/timestamp when the log is Kafka, else NULL.
"""

from __future__ import annotations

import array
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import msgspec
import pyarrow as pa
from pyiceberg.io.pyarrow import schema_to_pyarrow

from wikistream.errors import RecordParseError
from wikistream.eventlog.base import LogRecord, PackedValues, RecordColumns
from wikistream.lake.schemas import BRONZE, SCHEMA_VERSION

# Plausible event times: Wikipedia started in 2001; anything outside is not a usable time.
MIN_EVENT_EPOCH_S = 978_307_200  # 2001-01-01T00:00:00Z
MAX_EVENT_EPOCH_S = 4_102_444_800  # 2100-01-01T00:00:00Z

_ENVELOPE_PATHS = "['$.id', '$.data', '$._processing.ingested_at', '$._processing.sse_id']"
_EVENT_TYPE = json.dumps(
    {
        "id": "BIGINT",
        "type": "VARCHAR",
        "namespace": "INTEGER",
        "title": "VARCHAR",
        "title_url": "VARCHAR",
        "user": "VARCHAR",
        "bot": "BOOLEAN",
        "comment": "VARCHAR",
        "wiki": "VARCHAR",
        "server_name": "VARCHAR",
        "length": {"old": "INTEGER", "new": "INTEGER"},
        "revision": {"old": "BIGINT", "new": "BIGINT"},
        "timestamp": "DOUBLE",
        "meta": {"id": "VARCHAR", "dt": "VARCHAR", "domain": "VARCHAR"},
    }
)

# One pass: the envelope is parsed once (a list of paths), the event once (``from_json``). The UTC
# date is a DATE cast of the naive UTC timestamp: a fifth of the query's CPU less than strftime.
# Invalid JSON makes DuckDB raise for the whole batch; the caller then validates record by record.
# Subqueries, not CTEs: an inlined CTE re-parses the JSON for every field referenced. The first
# branch of ``reject_reason`` settles the usual row with byte-prefix tests; only the others pay for
# the character-wise ``left``/``ltrim`` (every row took them: ~4 % more CPU for a 1M catch-up).
_PARSE_SQL = f"""
SELECT
    event_id,
    {{kafka}}
    COALESCE(ev.id, -1) AS rc_id,
    COALESCE(ev.type, 'unknown') AS event_type,
    ev.namespace AS namespace,
    ev.meta.domain AS domain,
    ev.title AS title,
    ev.title_url AS title_url,
    ev['user'] AS "user",
    COALESCE(ev.bot, false) AS is_bot,
    ev.comment AS comment,
    ev.wiki AS wiki,
    ev.server_name AS server_name,
    ev.length.old AS length_old,
    ev.length.new AS length_new,
    CASE WHEN delta64 BETWEEN -2147483648 AND 2147483647
         THEN CAST(delta64 AS INTEGER) END AS length_delta,
    ev.revision.old AS revision_old,
    ev.revision.new AS revision_new,
    event_timestamp,
    TRY_CAST(ingested_at AS TIMESTAMPTZ) AS producer_ingested_at,
    CAST(NULL AS TIMESTAMPTZ) AS bronze_processed_at,
    CAST(CAST(make_timestamp(epoch_us(event_timestamp)) AS DATE) AS VARCHAR) AS event_date,
    CAST(hour(make_timestamp(epoch_us(event_timestamp))) AS INTEGER) AS event_hour,
    '{SCHEMA_VERSION}' AS schema_version,
    meta_dt,
    log_partition,
    log_offset,
    raw_event,
    CASE WHEN starts_with(value, '{{') AND starts_with(raw_event, '{{')
              AND event_id IS NOT NULL AND event_timestamp IS NOT NULL THEN NULL
         WHEN NOT starts_with(ltrim(left(value, 32), ' \t\n\r'), '{{') THEN 'envelope_not_object'
         WHEN raw_event IS NULL THEN 'missing_data'
         WHEN NOT starts_with(ltrim(left(raw_event, 32), ' \t\n\r'), '{{') THEN 'event_not_object'
         WHEN event_id IS NULL THEN 'missing_event_id'
         WHEN event_timestamp IS NULL THEN 'no_event_time' END AS reject_reason,
    sse_id,
    log_ts,
    log_topic
FROM (
    SELECT *,
        COALESCE(unix_ts,
            CASE WHEN epoch(meta_dt) >= {MIN_EVENT_EPOCH_S} AND epoch(meta_dt) < {MAX_EVENT_EPOCH_S}
                 THEN meta_dt END) AS event_timestamp,
        CAST(ev.length.new AS BIGINT) - CAST(ev.length.old AS BIGINT) AS delta64
    FROM (
        SELECT *,
            COALESCE(NULLIF(env_id, ''), NULLIF(ev.meta.id, '')) AS event_id,
            TRY_CAST(ev.meta.dt AS TIMESTAMPTZ) AS meta_dt,
            CASE WHEN ev['timestamp'] >= {MIN_EVENT_EPOCH_S}
                  AND ev['timestamp'] < {MAX_EVENT_EPOCH_S}
                 THEN to_timestamp(ev['timestamp']) END AS unix_ts
        FROM (
            SELECT log_topic, log_partition, log_offset, log_ts, value,
                x[1] AS env_id, x[2] AS raw_event, x[3] AS ingested_at, x[4] AS sse_id,
                from_json(x[2], '{_EVENT_TYPE}') AS ev
            FROM (
                SELECT *, json_extract_string(value, {_ENVELOPE_PATHS}) AS x FROM batch
            )
        )
    )
)
"""
_KAFKA_COLUMNS = (
    "log_topic AS kafka_topic, log_partition AS kafka_partition, "
    "log_offset AS kafka_offset, log_ts AS kafka_timestamp,"
)
_NO_KAFKA_COLUMNS = (
    "CAST(NULL AS VARCHAR) AS kafka_topic, CAST(NULL AS INTEGER) AS kafka_partition, "
    "CAST(NULL AS BIGINT) AS kafka_offset, CAST(NULL AS TIMESTAMPTZ) AS kafka_timestamp,"
)

PARSER_MEMORY_LIMIT = "512MB"
# Chunks this big (catching up, not the live trickle) are parsed on two threads.
PARALLEL_ROWS = 4_000
PARALLEL_THREADS = 2
_strict_json = msgspec.json.Decoder()
BRONZE_ARROW_SCHEMA: pa.Schema = schema_to_pyarrow(BRONZE.schema())
_INPUT_SCHEMA = pa.schema(
    [
        ("log_topic", pa.string()),
        ("log_partition", pa.int32()),
        ("log_offset", pa.int64()),
        ("log_ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A log record that cannot become a bronze row, with the reason."""

    topic: str
    partition: int
    offset: int
    value: bytes
    error_type: str
    error: str
    original_event: dict[str, Any] | None
    sse_id: str | None


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """Good rows (bronze schema + ``log_ts``) and the records that must go to the DLQ."""

    rows: pa.Table
    rejected: list[Rejected]


def open_parser() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up for parsing (UTC session, no extension downloads).

    Chunks of ``PARALLEL_ROWS`` or more (catching up) are split so that ``PARALLEL_THREADS``
    threads parse them; the live trickle stays one Arrow batch, so one thread, and no second
    allocator arena (~80 MB) is filled for chunks that parse in milliseconds. Freed memory goes
    back to the OS after each query instead of staying cached up to 128 MB.
    """
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "threads": PARALLEL_THREADS,
            "memory_limit": PARSER_MEMORY_LIMIT,
            "allocator_flush_threshold": "8MB",
        }
    )
    con.execute("SET TimeZone = 'UTC'")
    return con


def _text_column(values: Sequence[bytes]) -> pa.ChunkedArray:
    """The values as Arrow strings without a Python object per byte string.

    Values read packed (:class:`~wikistream.eventlog.base.PackedValues`, the SQLite log) become
    one chunk per log row without a copy; others are joined once into one chunk. Raises
    ``pa.ArrowInvalid`` when a value is not UTF-8.
    """
    if isinstance(values, PackedValues):
        segments = values.segments
    else:
        ends = array.array("q", itertools.accumulate(map(len, values), initial=0))
        segments = [(b"".join(values), ends, 0, len(values))]
    chunks = [
        pa.Array.from_buffers(
            pa.large_string(), len(ends) - 1, [None, pa.py_buffer(ends), pa.py_buffer(blob)]
        ).slice(start, stop - start)
        for blob, ends, start, stop in segments
    ]
    for chunk in chunks:
        chunk.validate(full=True)
    return pa.chunked_array(chunks, pa.large_string())


def _input_table(
    columns: RecordColumns,
) -> tuple[pa.Table, RecordColumns, list[Rejected]]:
    """Arrow input for the query; records whose value is not UTF-8 are rejected here."""
    keep = columns
    bad: list[Rejected] = []
    try:
        text = _text_column(columns.values)
    except pa.ArrowInvalid:
        good: list[int] = []
        for index, value in enumerate(columns.values):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as exc:
                rec = columns.record(index)
                bad.append(_reject(rec, "invalid_utf8", f"record value is not UTF-8: {exc}"))
            else:
                good.append(index)
        keep = _take(columns, good)
        text = _text_column(keep.values)
    table = pa.table(
        [
            pa.repeat(pa.scalar(keep.topic, pa.string()), len(keep)),
            pa.array(keep.partitions, pa.int32()),
            pa.array(keep.offsets, pa.int64()),
            pa.array(keep.timestamps_us, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            text,
        ],
        schema=_INPUT_SCHEMA,
    )
    return table, keep, bad


def _take(columns: RecordColumns, indices: Sequence[int]) -> RecordColumns:
    return RecordColumns(
        columns.topic,
        [columns.partitions[i] for i in indices],
        [columns.offsets[i] for i in indices],
        [columns.keys[i] for i in indices],
        [columns.values[i] for i in indices],
        [columns.timestamps_us[i] for i in indices],
    )


def _run_query(con: duckdb.DuckDBPyConnection, batch: pa.Table, kafka: bool) -> pa.Table:
    sql = _PARSE_SQL.replace("{kafka}", _KAFKA_COLUMNS if kafka else _NO_KAFKA_COLUMNS)
    if batch.num_rows >= PARALLEL_ROWS:
        # DuckDB scans an Arrow table one record batch per thread: split it for two threads.
        batch = pa.Table.from_batches(batch.to_batches(max_chunksize=-(-batch.num_rows // 4)))
    con.register("batch", batch)
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.unregister("batch")


def _is_json(value: bytes | str) -> bool:
    try:
        _strict_json.decode(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def _split_invalid_json(records: Sequence[LogRecord]) -> tuple[list[LogRecord], list[Rejected]]:
    """Separate records whose envelope or event is not valid JSON (the slow, rare path)."""
    good: list[LogRecord] = []
    bad: list[Rejected] = []
    for rec in records:
        envelope = rec.value
        if not _is_json(envelope):
            bad.append(classify_reject(rec))
            continue
        data = _envelope_data(envelope)
        if isinstance(data, str) and not _is_json(data):
            bad.append(classify_reject(rec))
            continue
        good.append(rec)
    return good, bad


def _envelope_data(value: bytes) -> Any:
    body = msgspec.json.decode(value)
    return body.get("data") if isinstance(body, dict) else None


def parse_records(
    con: duckdb.DuckDBPyConnection, records: Sequence[LogRecord], *, kafka: bool
) -> ParsedBatch:
    """Parse log records into bronze rows; every record ends up in ``rows`` or ``rejected``."""
    topic = records[0].topic if records else ""
    return parse_columns(con, RecordColumns.of(topic, records), kafka=kafka)


def parse_columns(
    con: duckdb.DuckDBPyConnection, columns: RecordColumns, *, kafka: bool
) -> ParsedBatch:
    """:func:`parse_records` for records read as columns (the writer's bulk path)."""
    if not len(columns):
        return ParsedBatch(_empty_rows(), [])
    batch, kept, rejected = _input_table(columns)
    try:
        parsed = _run_query(con, batch, kafka)
    except duckdb.Error:
        # Some record is not valid JSON: find those in Python, then parse the rest.
        good, bad = _split_invalid_json(kept.records())
        rejected.extend(bad)
        parsed = _parse_each(con, good, kafka, rejected) if good else _empty_query()
    del batch
    reasons = parsed.column("reject_reason")
    if reasons.null_count < len(parsed):
        rejected.extend(_rows_rejected(parsed, columns))
        parsed = parsed.filter(reasons.is_null())
    if len(parsed) + len(rejected) != len(columns):
        raise RecordParseError(
            f"bronze parse lost track of records: {len(columns)} in, {len(parsed)} rows + "
            f"{len(rejected)} rejected out; report this with the log offsets "
            f"{columns.offsets[0]}..{columns.offsets[-1]}"
        )
    return ParsedBatch(_to_bronze(parsed), rejected)


def _parse_each(
    con: duckdb.DuckDBPyConnection,
    records: Sequence[LogRecord],
    kafka: bool,
    rejected: list[Rejected],
) -> pa.Table:
    """Parse the batch again; if DuckDB still refuses it, go one record at a time."""
    batch, kept, _ = _input_table(RecordColumns.of(records[0].topic, records))
    try:
        return _run_query(con, batch, kafka)
    except duckdb.Error:
        pass
    parts: list[pa.Table] = []
    for rec in kept.records():
        one, _, _ = _input_table(RecordColumns.of(rec.topic, [rec]))
        try:
            parts.append(_run_query(con, one, kafka))
        except duckdb.Error as exc:
            rejected.append(_reject(rec, "unparseable_event", f"DuckDB cannot parse it: {exc}"))
    return pa.concat_tables(parts) if parts else _empty_query()


def _empty_query() -> pa.Table:
    return (
        pa.schema(
            [*BRONZE_ARROW_SCHEMA, *(pa.field(n, pa.string()) for n in ("reject_reason", "sse_id"))]
        )
        .append(pa.field("log_ts", pa.timestamp("us", tz="UTC")))
        .empty_table()
    )


def _to_bronze(parsed: pa.Table) -> pa.Table:
    """Project the query output onto the bronze schema (+ ``log_ts`` for ordering)."""
    columns = [parsed.column(f.name).cast(f.type) for f in BRONZE_ARROW_SCHEMA]
    fields = list(BRONZE_ARROW_SCHEMA)
    columns.append(parsed.column("log_ts"))
    fields.append(pa.field("log_ts", pa.timestamp("us", tz="UTC")))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _empty_rows() -> pa.Table:
    schema = BRONZE_ARROW_SCHEMA.append(pa.field("log_ts", pa.timestamp("us", tz="UTC")))
    return schema.empty_table()


_TIME_MESSAGE = (
    "event has no usable time: 'timestamp' is missing or outside 2001-2100 and 'meta.dt' is "
    "missing or not an ISO-8601 time in that range"
)


def _rows_rejected(parsed: pa.Table, columns: RecordColumns) -> list[Rejected]:
    """Rows the query flagged: not an object, no data, no event id, no usable event time."""
    flagged = parsed.filter(parsed.column("reject_reason").is_valid()).select(
        ["log_partition", "log_offset", "reject_reason", "raw_event", "sse_id"]
    )
    rows = flagged.to_pylist()
    wanted = {(row["log_partition"], row["log_offset"]) for row in rows}
    positions = zip(columns.partitions, columns.offsets, strict=True)
    by_pos = {pos: index for index, pos in enumerate(positions) if pos in wanted}
    out: list[Rejected] = []
    for row in rows:
        rec = columns.record(by_pos[(row["log_partition"], row["log_offset"])])
        reason = str(row["reject_reason"])
        if reason == "missing_event_id":
            message = "event has no meta.id and the envelope no id"
        elif reason == "no_event_time":
            message = _TIME_MESSAGE
        else:
            out.append(classify_reject(rec))
            continue
        out.append(_reject(rec, reason, message, _object(row["raw_event"]), row["sse_id"]))
    return out


def classify_reject(rec: LogRecord) -> Rejected:
    """Explain why a record is not a usable envelope (bad JSON, not an object, no data …)."""
    try:
        envelope = json.loads(rec.value)
    except UnicodeDecodeError as exc:
        return _reject(rec, "invalid_utf8", f"record value is not UTF-8: {exc}")
    except ValueError as exc:
        return _reject(rec, "invalid_envelope_json", f"envelope is not valid JSON: {exc}")
    if not isinstance(envelope, dict):
        kind = type(envelope).__name__
        return _reject(rec, "envelope_not_object", f"envelope is a JSON {kind}, not an object")
    processing = envelope.get("_processing")
    sse_id = processing.get("sse_id") if isinstance(processing, dict) else None
    sse = sse_id if isinstance(sse_id, str) else None
    data = envelope.get("data")
    if isinstance(data, dict):
        return _reject(rec, "unparseable_event", "event object could not be parsed", data, sse)
    if isinstance(data, int | float | bool | list):
        kind = type(data).__name__
        return _reject(rec, "event_not_object", f"'data' is a JSON {kind}, not an object")
    if not isinstance(data, str):
        kind = "missing" if data is None else f"a JSON {type(data).__name__}"
        return _reject(
            rec, "missing_data", f"envelope 'data' is {kind}, not the event JSON text", None, sse
        )
    try:
        event = json.loads(data)
    except ValueError as exc:
        return _reject(rec, "invalid_event_json", f"'data' is not valid JSON: {exc}", None, sse)
    if not isinstance(event, dict):
        kind = type(event).__name__
        return _reject(
            rec, "event_not_object", f"'data' is a JSON {kind}, not an object", None, sse
        )
    return _reject(rec, "unparseable_event", "event object could not be parsed", event, sse)


def _object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _reject(
    rec: LogRecord,
    error_type: str,
    message: str,
    original: dict[str, Any] | None = None,
    sse_id: str | None = None,
) -> Rejected:
    where = f"{rec.topic}[{rec.partition}]@{rec.offset}"
    return Rejected(
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        value=rec.value,
        error_type=error_type,
        error=f"{where}: {message}",
        original_event=original,
        sse_id=sse_id,
    )
