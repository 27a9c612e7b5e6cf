"""Incremental Server-Sent Events parser (WHATWG HTML, "event stream interpretation").

Feed it the bytes of one HTTP response in chunks of any size — a chunk may end mid-line, between
the CR and LF of a CRLF, or inside a UTF-8 sequence — and it returns each event once the blank line
that ends it has arrived. What the spec says, and what this parser does:

- the stream is UTF-8 (invalid bytes become U+FFFD); one leading BOM is dropped;
- lines end with CRLF, LF or CR;
- ``:comment`` lines (EventStreams' ``:ok``) are ignored;
- ``data:`` lines are joined with ``\\n``; ``event:`` sets the type (default ``message``);
  ``id:`` sets the last event id, which persists to later events until changed (an id containing
  NUL is ignored); ``retry:`` with only ASCII digits sets the reconnection time in ms;
  one space after the colon is removed; unknown fields are ignored;
- a blank line dispatches the event, unless no ``data`` line was seen (then nothing is dispatched);
- an event cut off by the end of the connection is never returned: a new connection starts a
  new parser, and what the old one had buffered is simply dropped.

Memory stays bounded against a hostile or broken server: with ``max_data_chars`` set, an event's
data is cut to ``max_data_chars + 1`` characters (so it still reads as oversize downstream and is
dead-lettered with that reason) and an endless line is cut after ``4 * max_data_chars + 64`` bytes.

Speed matters because replays push 100k+ events/s through the same code: complete lines are
decoded in one ``bytes.decode`` per chunk and split with ``str.split``, not byte by byte.
"""

from __future__ import annotations

from wikistream.ingest.source import SseEvent

_BOM = "\ufeff"


class SseParser:
    """Turns the byte chunks of one SSE response into :class:`SseEvent` objects."""

    __slots__ = (
        "_buffer",
        "_data",
        "_data_chars",
        "_data_cut",
        "_discard_line",
        "_event_type",
        "_max_data",
        "_max_line",
        "_skip_lf",
        "_started",
        "last_event_id",
        "retry_ms",
        "truncated_events",
    )

    def __init__(self, last_event_id: str | None = None, max_data_chars: int | None = None) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event_type = ""
        # A chunk ended with CR: if the next one starts with LF, that LF ends the same line.
        self._skip_lf = False
        self._started = False
        self._max_data = max_data_chars
        # UTF-8 needs at most 4 bytes a character, so a line cut here still holds enough text.
        self._max_line = None if max_data_chars is None else 4 * max_data_chars + 64
        self._discard_line = False
        self._data_chars = 0
        self._data_cut = False
        self.last_event_id: str | None = last_event_id
        self.retry_ms: int | None = None
        self.truncated_events = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes held for an unfinished line (dropped if the connection ends now)."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Consume one chunk; return the events it completed, in stream order."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._discard_line:  # the rest of an over-long line: drop it up to its terminator
            cut = _first_terminator(chunk)
            if cut < 0:
                return []
            chunk = chunk[cut:]
            self._discard_line = False
        buffer = self._buffer + chunk if self._buffer else chunk
        end = buffer.rfind(b"\n")
        has_cr = b"\r" in buffer
        if has_cr:
            end = max(end, buffer.rfind(b"\r"))
        if end < 0:
            self._buffer = buffer
            self._limit_line()
            return []
        self._buffer = buffer[end + 1 :]
        self._limit_line()
        # Line terminators are ASCII, so the text up to one never splits a UTF-8 sequence.
        text = buffer[: end + 1].decode("utf-8", "replace")
        if not self._started:
            self._started = True
            if text.startswith(_BOM):
                text = text[1:]
        if has_cr:
            if text.endswith("\r"):
                self._skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # the text ends with a terminator, so the last piece is always ""
        return self._process(lines)

    def _process(self, lines: list[str]) -> list[SseEvent]:
        events: list[SseEvent] = []
        data = self._data
        add_data = data.append
        for line in lines:
            if not line:
                if data:
                    events.append(
                        SseEvent(
                            data=data[0] if len(data) == 1 else "\n".join(data),
                            id=self.last_event_id,
                            event=self._event_type or "message",
                        )
                    )
                    data.clear()
                    if self._data_cut:
                        self.truncated_events += 1
                self._event_type = ""
                self._data_chars = 0
                self._data_cut = False
            elif line[:5] == "data:":
                value = line[6:] if line[5:6] == " " else line[5:]
                if self._max_data is None:
                    add_data(value)
                else:
                    self._add_limited(value)
            elif line[0] != ":":
                field, colon, value = line.partition(":")
                if colon and value[:1] == " ":
                    value = value[1:]
                self._apply_field(field, value, data)
        return events

    def _apply_field(self, field: str, value: str, data: list[str]) -> None:
        if field == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif field == "event":
            self._event_type = value
        elif field == "data":  # "data" without a colon: an empty data line
            self._add_limited(value)
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)

    def _add_limited(self, value: str) -> None:
        if self._max_data is None:
            self._data.append(value)
            return
        # Room left for this line: the cap, minus what is held, minus the joining newline.
        room = self._max_data + 1 - self._data_chars - (1 if self._data else 0)
        if room < 0 or (room == 0 and value):
            self._data_cut = True
            return
        if len(value) > room:
            value = value[:room]
            self._data_cut = True
        self._data_chars += len(value) + (1 if self._data else 0)
        self._data.append(value)

    def _limit_line(self) -> None:
        if self._max_line is not None and len(self._buffer) > self._max_line:
            self._buffer = self._buffer[: self._max_line]
            self._discard_line = True


def _first_terminator(chunk: bytes) -> int:
    positions = [p for p in (chunk.find(b"\n"), chunk.find(b"\r")) if p >= 0]
    return min(positions) if positions else -1
