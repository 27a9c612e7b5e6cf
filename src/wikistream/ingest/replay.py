"""Replay a JSONL file of recentchange events (optionally gzip) through the live ingest path.

Each non-blank line becomes ``SseEvent(data=<line>, id=<synthetic id>)``, the id having the shape
of a real EventStreams id: ``[{"topic":"replay:<file name>","partition":0,"offset":<line no>}]``
(line numbers start at 1). A restart with the same file resumes after the line of the last
persisted id, so killing ingest at any moment loses and duplicates nothing.

Pacing: ``speed`` 1 reproduces the gaps between consecutive ``meta.dt`` values, 10 plays ten times
faster, ``None`` (``max``) never sleeps; a single pause is capped at ``max_gap_s``. With
``follow`` (plain files only) the source waits for lines appended to the file, like ``tail -f``.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from wikistream.clock import parse_iso_utc, utc_now
from wikistream.errors import ReplayFileError
from wikistream.ingest.source import BLANK, EventBlock, SourceStatus, SseEvent, is_blank

logger = logging.getLogger(__name__)

_TICK_S = 0.25
_DT = re.compile(rb'"dt"\s*:\s*"([^"]{1,64})"')
_BLOCK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"

try:  # ISA-L inflates about three times faster than zlib: a third of a replay's CPU otherwise
    from isal import igzip, isal_zlib

    _gzip_open: Any = igzip.open
    _GZIP_ERRORS: tuple[type[Exception], ...] = (
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        cast("type[Exception]", isal_zlib.error),  # its stub types it as an instance
    )
except ImportError:  # pragma: no cover - isal is a core dependency; stay usable without it
    _gzip_open = gzip.open
    _GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def parse_speed(text: str) -> float | None:
    """``"max"`` → None (no sleeping); a positive number → that many times real time."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ReplayFileError(
            f"--speed {text!r} is not valid; use 1, 10, any positive number or max"
        )
    return value


class ReplaySource:
    """:class:`~wikistream.ingest.source.EventSource` over a JSONL(.gz) file of events."""

    def __init__(
        self,
        path: Path,
        speed: float | None = None,
        *,
        follow: bool = False,
        max_gap_s: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.speed = speed
        self.max_gap_s = max_gap_s
        self.status = SourceStatus()
        if not self.path.is_file():
            raise ReplayFileError(
                f"replay file {self.path} does not exist or is not a file; give the path of a "
                ".jsonl or .jsonl.gz file with one recentchange event per line"
            )
        self.compressed = self._is_gzip()
        self.follow = follow and not self.compressed
        if follow and self.compressed:
            logger.info("replay: %s is gzip-compressed, so it is read once (no follow)", path)
        self.topic = f"replay:{self.path.name}"
        self.resume_key = self.topic
        self._id_prefix = '[{"topic":' + json.dumps(self.topic) + ',"partition":0,"offset":'
        self._previous_dt: float | None = None
        self._wall_target = 0.0

    def _is_gzip(self) -> bool:
        try:
            with self.path.open("rb") as handle:
                return handle.read(2) == _GZIP_MAGIC
        except OSError as exc:
            raise ReplayFileError(f"cannot read replay file {self.path}: {exc.strerror}") from exc

    def _open(self) -> IO[bytes]:
        try:
            if self.compressed:
                return cast("IO[bytes]", _gzip_open(self.path, "rb"))
            return self.path.open("rb")
        except OSError as exc:
            raise ReplayFileError(f"cannot read replay file {self.path}: {exc.strerror}") from exc

    def line_after(self, resume_id: str | None) -> int:
        """The line number a resume id points at (0: start from the first line)."""
        if resume_id is None:
            return 0
        try:
            parts = json.loads(resume_id)
            part = parts[0]
            topic, offset = part["topic"], part["offset"]
        except (ValueError, TypeError, KeyError, IndexError):
            logger.warning("replay: resume id %r is not a replay id; starting at line 1", resume_id)
            return 0
        if topic != self.topic or not isinstance(offset, int) or offset < 0:
            logger.warning("replay: resume id %r names another file; starting at line 1", resume_id)
            return 0
        return offset

    def event_id(self, number: int) -> str:
        """The synthetic SSE id of line ``number`` (see the module docstring)."""
        return f"{self._id_prefix}{number}}}]"

    def events(self, resume_id: str | None, stop: threading.Event) -> Iterator[SseEvent | None]:
        """Yield the file's events after ``resume_id``; see the module docstring for pacing."""
        for block in self.blocks(resume_id, stop):
            if block is None:
                yield None
                continue
            number = block.first_number
            for line in block.lines:
                if line and (line[0] not in BLANK or not is_blank(line)):
                    yield SseEvent(
                        data=line.decode("utf-8", "surrogateescape"), id=self.event_id(number)
                    )
                number += 1

    def blocks(self, resume_id: str | None, stop: threading.Event) -> Iterator[EventBlock | None]:
        """Yield the file's lines after ``resume_id`` in blocks (one line each when paced)."""
        skip = self.line_after(resume_id)
        self.status.connects += 1
        self.status.connected = True
        try:
            with self._open() as handle:
                yield from self._blocks(handle, skip, stop)
        except _GZIP_ERRORS as exc:
            raise ReplayFileError(
                f"replay file {self.path} is corrupt or truncated ({exc}); the lines before "
                "the damage were ingested"
            ) from exc
        except OSError as exc:
            raise ReplayFileError(f"reading replay file {self.path} failed: {exc}") from exc
        finally:
            self.status.connected = False
        self.status.finished = True

    def _blocks(
        self, handle: IO[bytes], skip: int, stop: threading.Event
    ) -> Iterator[EventBlock | None]:
        read = 0  # lines read so far
        self._previous_dt = None
        self._wall_target = time.monotonic()
        for lines in self._chunks(handle, stop):
            if lines is None:
                yield None
                continue
            first = read + 1
            read += len(lines)
            self.status.last_event_at = utc_now()
            if stop.is_set():
                return
            if read <= skip:
                continue
            if first <= skip:
                lines = lines[skip - first + 1 :]
                first = skip + 1
            if self.speed is None:
                yield EventBlock(lines, first)
            else:
                yield from self._paced(lines, first, stop)
                if stop.is_set():
                    return

    def _paced(
        self, lines: list[bytes], first: int, stop: threading.Event
    ) -> Iterator[EventBlock | None]:
        """One line at a time, each after the gap since the previous ``meta.dt``, sped up."""
        for number, line in enumerate(lines, first):
            event_dt = _event_time(line)
            if event_dt is not None:
                if self._previous_dt is not None:
                    gap = max(0.0, event_dt - self._previous_dt) / (self.speed or 1.0)
                    self._wall_target += min(gap, self.max_gap_s)
                else:
                    self._wall_target = time.monotonic()
                self._previous_dt = event_dt
                yield from _sleep_until(self._wall_target, stop)
                if stop.is_set():
                    return
            yield EventBlock([line], number)

    def _chunks(self, handle: IO[bytes], stop: threading.Event) -> Iterator[list[bytes] | None]:
        """The file's lines in blocks of about 1 MiB; None ticks while following."""
        tail = b""
        while True:
            chunk = handle.read(_BLOCK_BYTES)
            if not chunk:
                if not self.follow:
                    if tail:
                        yield _lines(tail)
                    return
                # Nothing new, or the rest of a line is still being written: wait for it.
                if stop.wait(_TICK_S):
                    return
                yield None
                continue
            lines = chunk.split(b"\n")
            if tail:  # join the line cut by the previous read (not the whole block: no copy)
                lines[0] = tail + lines[0]
            tail = lines.pop()
            if lines:
                yield _crlf(lines, b"\r" in chunk or lines[0].endswith(b"\r"))


def _lines(raw: bytes) -> list[bytes]:
    """Split complete lines (without the last newline); drop CRs of CRLF line ends."""
    return _crlf(raw.split(b"\n"), b"\r" in raw)


def _crlf(lines: list[bytes], has_cr: bool) -> list[bytes]:
    """``lines`` without the CRs of CRLF line ends (``has_cr``: is there any CR at all)."""
    return [line.rstrip(b"\r") for line in lines] if has_cr else lines


def _event_time(raw: bytes) -> float | None:
    """Seconds since the epoch of the line's ``meta.dt`` (cheap search, not a JSON parse)."""
    match = _DT.search(raw)
    if match is None:
        return None
    try:
        return parse_iso_utc(match.group(1).decode("ascii")).timestamp()
    except (ValueError, UnicodeDecodeError):
        return None


def _sleep_until(target: float, stop: threading.Event) -> Iterator[None]:
    """Wait until ``target`` (monotonic), yielding a tick at least every 0.25 s."""
    while True:
        remaining = target - time.monotonic()
        if remaining <= 0.0005:
            return
        if stop.wait(min(remaining, _TICK_S)):
            return
        if target - time.monotonic() > 0.0005:
            yield None
