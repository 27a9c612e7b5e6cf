"""The SQLite log's batch rows: splitting, reading from inside a row, keys, retention, upgrade."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from wikistream.errors import EventLogError
from wikistream.eventlog import sqlite_batches
from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.sqlite import SqliteEventLog


def _rows(path: Path, table: str = "b_raw_events") -> list[tuple[int, int]]:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT first_offset, last_offset FROM {table} ORDER BY 1").fetchall()


def test_an_append_is_split_into_rows_and_reads_cut_rows_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_batches, "ROW_BYTES", 100)
    monkeypatch.setattr(sqlite_batches, "ROW_RECORDS", 7)
    rng = random.Random(5)
    keys: list[bytes | None] = [None, b"", b"k1", None, b"key-two"]
    sent = [
        NewRecord(bytes(rng.randrange(256) for _ in range(rng.choice((0, 3, 40, 150)))), key)
        for key in (rng.choice(keys) for _ in range(60))
    ]
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None)
    log.append({"raw-events": sent[:45]})
    log.append({"raw-events": sent[45:]})
    rows = _rows(tmp_path / "l.db")
    assert len(rows) > 60 // 7  # split by size and by count
    assert all(last - first < 7 for first, last in rows)
    assert next(first for first, _ in rows) == 0
    assert rows[-1][1] == 59
    # every way of walking the log returns the same records
    for step in (1, 3, 7, 11, 100):
        got, after = [], -1
        while chunk := log.read("raw-events", {0: after} if after >= 0 else {}, step):
            assert len(chunk) <= step
            got.extend(chunk)
            after = chunk[-1].offset
        assert [(r.offset, r.key, r.value) for r in got] == [
            (i, rec.key, rec.value) for i, rec in enumerate(sent)
        ]
        assert len({r.timestamp for r in got}) == 2  # one append time per append
    columns = log.read_columns("raw-events", {0: 4}, 50)
    assert columns.records() == log.read("raw-events", {0: 4}, 50)
    assert list(columns.offsets) == list(range(5, 55))


def test_size_retention_cuts_inside_a_row(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None, retention_bytes=35)
    log.append({"raw-events": [NewRecord(b"%02d" % i * 5, key=b"k%d" % i) for i in range(6)]})
    log.append({"raw-events": [NewRecord(b"y" * 10) for _ in range(2)]})
    assert log.apply_retention() == 5  # keeps 20 newest bytes + the 1st row's last 10-byte record
    got = log.read("raw-events", {}, 10)
    assert [(r.offset, r.key, r.value) for r in got] == [
        (5, b"k5", b"0505050505"),
        (6, None, b"y" * 10),
        (7, None, b"y" * 10),
    ]
    assert _rows(tmp_path / "l.db") == [(5, 5), (6, 7)]
    stats = log.stats("raw-events")
    assert (stats.records, stats.first_offsets, stats.size_bytes) == (3, {0: 5}, 30)


def test_a_log_written_one_row_per_record_is_converted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the layout of WikiStream before batch rows
        db.executescript(
            "CREATE TABLE topics (name TEXT PRIMARY KEY, tbl TEXT NOT NULL, "
            "next_offset INTEGER NOT NULL DEFAULT 0);"
            "CREATE TABLE t_raw_events (offset INTEGER PRIMARY KEY, key BLOB, "
            "value BLOB NOT NULL, ts_us INTEGER NOT NULL);"
            "CREATE INDEX t_raw_events_ts ON t_raw_events (ts_us);"
            "INSERT INTO topics VALUES ('raw-events', 't_raw_events', 9);"
        )
        db.executemany(  # offsets 3..8 survive retention: two appends, then a gap-free third
            "INSERT INTO t_raw_events VALUES (?, ?, ?, ?)",
            [(o, None if o == 4 else b"k%d" % o, b"v%d" % o, 1_000_000 * (o // 3))
             for o in range(3, 9)],
        )  # fmt: skip
    with pytest.raises(EventLogError, match=r"older WikiStream.*convert it in place"):
        SqliteEventLog(path, readonly=True).read("raw-events", {}, 10)
    log = SqliteEventLog(path, retention_s=None)
    got = log.read("raw-events", {}, 10)
    assert [(r.offset, r.key, r.value, r.timestamp.timestamp()) for r in got] == [
        (o, None if o == 4 else b"k%d" % o, b"v%d" % o, float(o // 3)) for o in range(3, 9)
    ]
    assert _rows(path) == [(3, 5), (6, 8)]  # one row per original append
    log.append({"raw-events": [NewRecord(b"new")]})
    assert log.read("raw-events", {0: 8}, 10)[0].offset == 9
    log.close()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "t_raw_events" not in tables
        assert "b_raw_events" in tables
    assert len(SqliteEventLog(path, readonly=True).read("raw-events", {}, 10)) == 7
