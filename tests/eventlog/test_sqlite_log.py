"""SQLite-specific behaviour: retention, offset continuity, readers in another process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from wikistream.errors import EventLogUnavailableError, OffsetOutOfRangeError
from wikistream.eventlog.base import ColumnarEventLog, NewRecord
from wikistream.eventlog.sqlite import PAGE_SIZE, SqliteEventLog


def test_retention_by_age_keeps_offsets_monotonic(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=0.0)
    log.append({"raw-events": [NewRecord(b"a"), NewRecord(b"b")]})
    assert log.apply_retention() == 2
    log.append({"raw-events": [NewRecord(b"c")]})
    got = log.read("raw-events", {}, 10)
    assert [(r.offset, r.value) for r in got] == [(2, b"c")]
    assert log.head("raw-events") == {0: 2}


def test_retention_by_size(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None, retention_bytes=25)
    log.append({"raw-events": [NewRecord(b"x" * 10) for _ in range(5)]})
    log.apply_retention()
    assert [r.offset for r in log.read("raw-events", {}, 10)] == [3, 4]


def test_reading_past_removed_records_is_an_error(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None, retention_bytes=15)
    log.append({"raw-events": [NewRecord(b"x" * 10) for _ in range(3)]})
    log.apply_retention()
    with pytest.raises(OffsetOutOfRangeError, match="removed by retention"):
        log.read("raw-events", {0: 0}, 10)


def test_reader_in_other_process_sees_committed_appends(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    log = SqliteEventLog(path)
    log.append({"raw-events": [NewRecord(b"one"), NewRecord(b"two")]})
    code = (
        "import sys; from wikistream.eventlog.sqlite import SqliteEventLog as L;"
        f"l=L(__import__('pathlib').Path({str(path)!r}), readonly=True);"
        "print(len(l.read('raw-events', {}, 10)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EventLogUnavailableError, match="cannot open the event log"):
        SqliteEventLog(blocker / "sub" / "l.db")


def test_new_logs_use_16k_pages_and_old_4k_logs_still_open(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "new.db")
    log.append({"raw-events": [NewRecord(b"a")]})
    log.close()
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:  # a log written before the page size was set
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE keep (x)")
    log = SqliteEventLog(old)
    log.append({"raw-events": [NewRecord(b"b")]})
    assert [r.value for r in log.read("raw-events", {}, 10)] == [b"b"]
    log.close()
    for name, size in (("new.db", PAGE_SIZE), ("old.db", 4096)):
        with sqlite3.connect(tmp_path / name) as db:
            assert db.execute("PRAGMA page_size").fetchone()[0] == size


def test_read_columns_returns_the_same_records_as_read(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None)
    log.append({"raw-events": [NewRecord(f"a{i}".encode(), key=b"k") for i in range(5)]})
    log.append({"raw-events": [NewRecord(f"b{i}".encode()) for i in range(5)]})
    assert isinstance(log, ColumnarEventLog)
    columns = log.read_columns("raw-events", {0: 2}, 6)
    assert len(columns) == 6
    assert columns.records() == log.read("raw-events", {0: 2}, 6)
    assert len(log.read_columns("raw-events", {0: 9}, 6)) == 0
    assert len(log.read_columns("no-such-topic", {}, 6)) == 0


def test_read_columns_past_removed_records_is_an_error(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "l.db", retention_s=None, retention_bytes=15)
    log.append({"raw-events": [NewRecord(b"x" * 10) for _ in range(3)]})
    log.apply_retention()
    with pytest.raises(OffsetOutOfRangeError, match="removed by retention"):
        log.read_columns("raw-events", {0: 0}, 10)
