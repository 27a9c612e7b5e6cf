"""How the SQLite log stores records: one row per *record batch*, as Kafka does on disk.

A topic table holds rows ``(first_offset INTEGER PRIMARY KEY, last_offset, ts_us, value_bytes,
value_ends, key_ends, key_nulls, vals, keys)``: the records ``first_offset..last_offset`` of one
append, their values concatenated in ``vals`` and their keys in ``keys``. ``value_ends`` and
``key_ends`` are the ``n + 1`` little-endian int64 end positions of each record in those blobs,
starting with 0 (the offsets buffer of an Arrow ``large_binary`` array). ``key_ends`` is NULL
when no record of the row has a key; ``key_nulls`` is NULL when every record has one, otherwise a
byte per record, 1 for "no key".

One row per batch instead of one per record halves the CPU of an append (SQLite's per-row
B-tree work dominated) and lets a reader take a whole batch with one row fetch. An append is
split into rows of at most :data:`ROW_BYTES` of values and :data:`ROW_RECORDS` records, so a
reader that wants a few records never fetches a huge row.

Files written before this layout (one row per record, tables ``t_<topic>``) are converted in
place by :func:`upgrade_v1` when a writer opens them.
"""

from __future__ import annotations

import sqlite3
import sys
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, islice, repeat
from operator import attrgetter, sub
from typing import TYPE_CHECKING, cast

from wikistream.eventlog.base import PackedValues

if TYPE_CHECKING:
    from wikistream.eventlog.base import NewRecord

ROW_BYTES = 4 << 20
"""Largest run of value bytes one row holds (a single bigger record gets a row of its own)."""
ROW_RECORDS = 4096
"""Most records in one row."""

TABLE_PREFIX = "b_"
LEGACY_PREFIX = "t_"
FORMAT_VERSION = 2  # PRAGMA user_version of a file in this layout

COLUMNS = "first_offset, last_offset, ts_us, value_ends, vals, key_ends, keys, key_nulls"
_INSERT = (
    'INSERT INTO "{table}" (first_offset, last_offset, ts_us, value_bytes, value_ends, '
    "key_ends, key_nulls, vals, keys) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_KEY = attrgetter("key")
_VALUE = attrgetter("value")
_BIG_ENDIAN = sys.byteorder == "big"

Row = tuple[int, int, int, bytes, bytes, bytes | None, bytes | None, bytes | None]
"""A fetched row, in :data:`COLUMNS` order."""


def create_table(db: sqlite3.Connection, table: str) -> None:
    """Create a topic table in this layout (small columns first: a scan never reads blobs)."""
    db.execute(
        f'CREATE TABLE IF NOT EXISTS "{table}" (first_offset INTEGER PRIMARY KEY, '
        "last_offset INTEGER NOT NULL, ts_us INTEGER NOT NULL, value_bytes INTEGER NOT NULL, "
        "value_ends BLOB NOT NULL, key_ends BLOB, key_nulls BLOB, vals BLOB NOT NULL, keys BLOB)"
    )


def _stored(ends: array[int]) -> bytes:
    """End positions as stored: little-endian int64."""
    if _BIG_ENDIAN:  # pragma: no cover - stored little-endian everywhere
        ends.byteswap()
    return ends.tobytes()


def _read_ends(blob: bytes) -> array[int]:
    ends = array("q")
    ends.frombytes(blob)
    if _BIG_ENDIAN:  # pragma: no cover
        ends.byteswap()
    return ends


def insert(
    db: sqlite3.Connection,
    table: str,
    first: int,
    ts_us: int,
    values: Sequence[bytes],
    keys: Sequence[bytes | None],
) -> None:
    """Insert records ``first..`` as rows of at most :data:`ROW_BYTES` / :data:`ROW_RECORDS`."""
    total = len(values)
    ends = array("q", accumulate(map(len, values), initial=0))
    sql = _INSERT.format(table=table)
    start = 0
    while start < total:
        stop = bisect_right(ends, ends[start] + ROW_BYTES, start + 1, total + 1) - 1
        stop = min(max(stop, start + 1), start + ROW_RECORDS)
        if start:  # the row's own end positions start at 0
            row_ends = array("q", map(sub, islice(ends, start, stop + 1), repeat(ends[start])))
        else:
            row_ends = ends[: stop + 1]
        row = _row(first + start, ts_us, row_ends, values[start:stop], keys[start:stop])
        db.execute(sql, row)
        start = stop


def insert_records(
    db: sqlite3.Connection, table: str, first: int, ts_us: int, records: Sequence[NewRecord]
) -> None:
    """:func:`insert` for :class:`~wikistream.eventlog.base.NewRecord` objects."""
    insert(db, table, first, ts_us, list(map(_VALUE, records)), list(map(_KEY, records)))


def _row(
    first: int,
    ts_us: int,
    value_ends: array[int],
    values: Sequence[bytes],
    keys: Sequence[bytes | None],
) -> tuple[int, int, int, int, bytes, bytes | None, bytes | None, bytes, bytes | None]:
    size = value_ends[-1]  # before _stored: it may swap the bytes in place
    nulls = keys.count(None)
    key_ends: bytes | None = None
    key_nulls: bytes | None = None
    key_blob: bytes | None = None
    if nulls < len(keys):
        present = [k or b"" for k in keys] if nulls else cast("Sequence[bytes]", keys)
        if nulls:
            key_nulls = bytes(k is None for k in keys)
        key_ends = _stored(array("q", accumulate(map(len, present), initial=0)))
        key_blob = b"".join(present)
    last = first + len(values) - 1
    return (first, last, ts_us, size, _stored(value_ends), key_ends, key_nulls,
            b"".join(values), key_blob)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Slice:
    """Records ``first..`` of one row: values (still packed), keys, the row's append time."""

    first: int
    ts_us: int
    values: PackedValues
    keys: list[bytes | None]


def unpack(row: Row, start: int, stop: int) -> Slice:
    """Records ``start..stop-1`` (indexes within the row) of a fetched row."""
    first, _, ts_us, value_ends, vals, key_ends, keys, key_nulls = row
    values = PackedValues([(vals, _read_ends(value_ends), start, stop)])
    if key_ends is None or keys is None:
        key_list: list[bytes | None] = [None] * (stop - start)
    else:
        present = PackedValues([(keys, _read_ends(key_ends), start, stop)]).tolist()
        if key_nulls is None:
            key_list = cast("list[bytes | None]", present)
        else:
            key_list = [None if key_nulls[start + i] else k for i, k in enumerate(present)]
    return Slice(first + start, ts_us, values, key_list)


def trim_to_size(db: sqlite3.Connection, table: str, limit: int) -> int:
    """Keep the newest records whose values fit ``limit`` bytes; return the records removed.

    Whole rows go, newest kept first; the oldest row still kept is cut to the records that fit.
    """
    rows = db.execute(
        f'SELECT first_offset, value_bytes FROM "{table}" ORDER BY first_offset DESC'
    ).fetchall()
    total = 0
    for first, size in rows:
        if total + int(size) <= limit:
            total += int(size)
            continue
        row: Row = db.execute(
            f'SELECT {COLUMNS} FROM "{table}" WHERE first_offset = ?', (first,)
        ).fetchone()
        ends = _read_ends(row[3])
        keep_from = next(i for i in range(len(ends)) if ends[-1] - ends[i] <= limit - total)
        (older,) = db.execute(
            "SELECT COALESCE(SUM(last_offset - first_offset + 1), 0) "
            f'FROM "{table}" WHERE first_offset < ?',
            (first,),
        ).fetchone()
        db.execute(f'DELETE FROM "{table}" WHERE first_offset < ?', (first,))
        if keep_from:
            _trim_front(db, table, row, keep_from)
        return int(older) + keep_from
    return 0


def _trim_front(db: sqlite3.Connection, table: str, row: Row, keep_from: int) -> None:
    """Replace ``row`` by its records from index ``keep_from`` on (size retention)."""
    first, last = row[0], row[1]
    db.execute(f'DELETE FROM "{table}" WHERE first_offset = ?', (first,))
    if keep_from <= last - first:
        part = unpack(row, keep_from, last - first + 1)
        insert(db, table, part.first, part.ts_us, part.values.tolist(), part.keys)


def upgrade_v1(db: sqlite3.Connection) -> int:
    """Convert every one-row-per-record topic table to batch rows; return records moved.

    Runs inside the caller's write transaction. Records appended together (same ``ts_us``) stay
    together; offsets, keys, values and append times are kept exactly.
    """
    moved = 0
    legacy = db.execute(
        "SELECT name, tbl FROM topics WHERE substr(tbl, 1, ?) = ?",
        (len(LEGACY_PREFIX), LEGACY_PREFIX),
    ).fetchall()
    for name, old in legacy:
        new = TABLE_PREFIX + str(old)[len(LEGACY_PREFIX) :]
        create_table(db, new)
        cursor = db.execute(f'SELECT offset, key, value, ts_us FROM "{old}" ORDER BY offset')
        run: list[_LegacyRow] = []
        while rows := cursor.fetchmany(5000):
            for row in rows:
                if run and (row[3] != run[-1][3] or row[0] != run[-1][0] + 1):
                    moved += _flush_run(db, new, run)
                    run = []
                run.append(row)
        moved += _flush_run(db, new, run)
        db.execute(f'DROP TABLE "{old}"')
        db.execute("UPDATE topics SET tbl = ? WHERE name = ?", (new, name))
    db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
    return moved


_LegacyRow = tuple[int, bytes | None, bytes, int]


def _flush_run(db: sqlite3.Connection, table: str, run: list[_LegacyRow]) -> int:
    if run:
        insert(db, table, run[0][0], run[0][3], [bytes(r[2]) for r in run], [r[1] for r in run])
    return len(run)
