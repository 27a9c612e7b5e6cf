"""ReplaySource: synthetic resumable ids, blank lines, gzip, pacing, follow, errors."""

from __future__ import annotations

import gzip
import json
import threading
import time
from pathlib import Path

import pytest

from tests.ingest.events import SAMPLE_2023, EventFactory, base_event, dumps
from wikistream.errors import ReplayFileError
from wikistream.ingest.replay import ReplaySource, parse_speed
from wikistream.ingest.source import SseEvent


def _events(source: ReplaySource, resume: str | None = None) -> list[SseEvent]:
    return [e for e in source.events(resume, threading.Event()) if e is not None]


def test_ids_are_line_numbers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"a":1}\n\n   \n{"a":2}\r\nnot json\n', encoding="utf-8")
    events = _events(ReplaySource(path))
    assert [e.data for e in events] == ['{"a":1}', '{"a":2}', "not json"]
    ids = [json.loads(e.id or "") for e in events]
    assert ids == [[{"topic": "replay:f.jsonl", "partition": 0, "offset": n}] for n in (1, 4, 5)]


def test_resume_starts_after_the_line_of_the_id(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text("".join(f'{{"n":{n}}}\n' for n in range(1, 6)), encoding="utf-8")
    source = ReplaySource(path)
    resume = _events(source)[2].id
    assert [e.data for e in _events(source, resume)] == ['{"n":4}', '{"n":5}']
    # an id of another file or not a replay id at all: from the start, with a warning
    assert len(_events(source, '[{"topic":"replay:other.jsonl","partition":0,"offset":3}]')) == 5
    assert len(_events(source, '[{"topic":"eqiad.rc","partition":0,"timestamp":1}]')) == 5
    assert len(_events(source, "garbage")) == 5


def test_gzip_files_are_read(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "sample.jsonl.gz"
    path.write_bytes(gzip.compress((shared_data / SAMPLE_2023).read_bytes()))
    events = _events(ReplaySource(path, follow=True))  # follow is ignored for gzip
    assert len(events) == 100
    assert events[0].data == (shared_data / SAMPLE_2023).read_text("utf-8").splitlines()[0]


def test_a_truncated_gzip_file_is_a_replay_error(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress((shared_data / SAMPLE_2023).read_bytes())[:5000])
    with pytest.raises(ReplayFileError, match="corrupt or truncated"):
        _events(ReplaySource(path))


def test_a_missing_file_is_a_replay_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayFileError, match="does not exist"):
        ReplaySource(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("text", "value"), [("1", 1.0), ("10", 10.0), ("max", None), ("MAX", None), ("2.5", 2.5)]
)
def test_parse_speed(text: str, value: float | None) -> None:
    assert parse_speed(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "fast", "nan", "inf"])
def test_parse_speed_refuses_nonsense(text: str) -> None:
    with pytest.raises(ReplayFileError, match="--speed"):
        parse_speed(text)


def _paced_file(tmp_path: Path, shared_data: Path, gaps_s: list[float]) -> Path:
    factory = EventFactory(base_event(shared_data))
    t = 1_772_120_976.0
    lines = []
    for gap in [0.0, *gaps_s]:
        t += gap
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"
        lines.append(dumps(factory.make(dt=stamp)))
    path = tmp_path / "paced.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _timed(source: ReplaySource) -> tuple[float, int, int]:
    start = time.monotonic()
    items = list(source.events(None, threading.Event()))
    events = sum(1 for i in items if i is not None)
    return time.monotonic() - start, events, len(items) - events


def test_speed_1_follows_meta_dt_gaps(tmp_path: Path, shared_data: Path) -> None:
    elapsed, events, ticks = _timed(
        ReplaySource(_paced_file(tmp_path, shared_data, [0.3, 0.3]), 1.0)
    )
    assert events == 3
    assert 0.55 < elapsed < 1.5
    assert ticks >= 2  # idle ticks while waiting, so the ingestor can flush and see stop


def test_speed_10_is_ten_times_faster_and_gaps_are_capped(
    tmp_path: Path, shared_data: Path
) -> None:
    path = _paced_file(tmp_path, shared_data, [2.0, 3600.0])
    elapsed, events, _ = _timed(ReplaySource(path, 10.0, max_gap_s=0.3))
    assert events == 3
    assert 0.45 < elapsed < 1.4  # 0.2 s + a one-hour gap capped at 0.3 s


def test_speed_max_does_not_sleep(tmp_path: Path, shared_data: Path) -> None:
    path = _paced_file(tmp_path, shared_data, [30.0, 30.0])
    elapsed, events, ticks = _timed(ReplaySource(path, None))
    assert (events, ticks) == (3, 0)
    assert elapsed < 0.5


def test_stop_interrupts_a_paced_replay_quickly(tmp_path: Path, shared_data: Path) -> None:
    path = _paced_file(tmp_path, shared_data, [60.0])
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    list(ReplaySource(path, 1.0, max_gap_s=60.0).events(None, stop))
    assert time.monotonic() - start < 1.0


def test_follow_picks_up_appended_lines(tmp_path: Path) -> None:
    path = tmp_path / "grow.jsonl"
    path.write_text('{"n":1}\n', encoding="utf-8")
    stop = threading.Event()
    seen: list[str] = []

    def writer() -> None:
        time.sleep(0.3)
        with path.open("a", encoding="utf-8") as handle:
            handle.write('{"n":2}\n{"n":')  # the second line is still being written
            handle.flush()
            time.sleep(0.4)
            handle.write("3}\n")
        time.sleep(0.4)
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    for event in ReplaySource(path, follow=True).events(None, stop):
        if event is not None:
            seen.append(event.data)
    thread.join()
    assert seen == ['{"n":1}', '{"n":2}', '{"n":3}']


def test_blocks_hold_every_line_and_events_skip_the_blank_ones(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a":1}\r\n\n \t\n\x0b\n{"a":\xff}\n{"a":3}')  # no newline at the end
    source = ReplaySource(path)
    blocks = [b for b in source.blocks(None, threading.Event()) if b is not None]
    assert [(line, b.first_number + i) for b in blocks for i, line in enumerate(b.lines)] == [
        (b'{"a":1}', 1),
        (b"", 2),
        (b" \t", 3),
        (b"\x0b", 4),
        (b'{"a":\xff}', 5),
        (b'{"a":3}', 6),
    ]
    events = _events(source)
    assert [e.data for e in events] == ['{"a":1}', '{"a":\udcff}', '{"a":3}']
    assert [e.id for e in events] == [source.event_id(n) for n in (1, 5, 6)]


def test_blocks_resume_inside_a_block(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress("".join(f'{{"n":{n}}}\n' for n in range(1, 5001)).encode()))
    source = ReplaySource(path)
    blocks = [b for b in source.blocks(source.event_id(4321), threading.Event()) if b]
    assert blocks[0].first_number == 4322
    assert next(line for b in blocks for line in b.lines) == b'{"n":4322}'
    assert sum(len(b.lines) for b in blocks) == 5000 - 4321


def test_a_corrupt_gzip_file_is_a_replay_error(tmp_path: Path, shared_data: Path) -> None:
    packed = bytearray(gzip.compress((shared_data / SAMPLE_2023).read_bytes()))
    packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)  # damage mid-stream
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ReplayFileError, match="corrupt or truncated"):
        _events(ReplaySource(path))


def test_lines_cut_by_block_boundaries_are_joined(tmp_path: Path) -> None:
    lines = [f'{{"n":{n},"pad":"{"x" * (n % 5000)}"}}' for n in range(1, 1200)]
    path = tmp_path / "long.jsonl"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())  # ~3 MiB: several 1 MiB reads
    source = ReplaySource(path)
    assert [e.data for e in _events(source)] == lines


def test_a_crlf_split_by_a_block_boundary_loses_its_cr(tmp_path: Path) -> None:
    first = '{"pad":"' + "x" * ((1 << 20) - 1 - 10) + '"}'  # its \r ends the first 1 MiB read
    assert len(first) == (1 << 20) - 1
    path = tmp_path / "edge.jsonl"
    path.write_bytes(f'{first}\r\n{{"n":2}}\r\n'.encode())
    assert [e.data for e in _events(ReplaySource(path))] == [first, '{"n":2}']
