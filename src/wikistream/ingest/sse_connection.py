"""One HTTP connection to an SSE endpoint, read in a daemon thread that feeds a queue.

Reading in a thread keeps the consumer responsive: a hanging connect or a silent server never
blocks it, because it only waits on the queue (in short slices) and can walk away. The thread
ends by itself at the latest after the connect or idle-read timeout.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass

import httpx

from wikistream.ingest.source import SseEvent
from wikistream.ingest.sse_parser import SseParser

# Bounded so a slow consumer slows the reader (TCP backpressure) instead of filling memory.
QUEUE_BATCHES = 256
ERROR_BODY_BYTES = 2048
_PUT_SLICE_S = 0.25


@dataclass(frozen=True, slots=True)
class Opened:
    """The server answered 200 with an event stream."""


@dataclass(frozen=True, slots=True)
class Batch:
    """Events completed by one received chunk, and the latest ``retry:`` value seen."""

    events: list[SseEvent]
    retry_ms: int | None
    truncated: int = 0


@dataclass(frozen=True, slots=True)
class Refused:
    """The server answered, but not with a usable event stream."""

    status: int
    retry_after: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The connection ended: ``error`` is None when the server closed it cleanly."""

    error: Exception | None
    pending_bytes: int = 0


Item = Opened | Batch | Refused | Ended


class SseConnection:
    """A single GET of an event stream; its items arrive on :attr:`items` in order.

    The terminal item is :class:`Refused` or :class:`Ended`; nothing follows it.
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        *,
        headers: dict[str, str],
        params: dict[str, str],
        max_data_chars: int | None = None,
    ) -> None:
        self.items: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._client = client
        self._url = url
        self._headers = headers
        self._params = params
        self._max_data_chars = max_data_chars
        self._cancelled = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, name="wikistream-sse-read", daemon=True)

    def start(self) -> None:
        """Start connecting and reading in the background."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the reader to stop; best effort close of the response so a blocked read ends."""
        self._cancelled.set()
        response = self._response
        if response is not None:
            # The reader thread reports this response's errors; closing is only a nudge.
            with contextlib.suppress(Exception):
                response.close()

    def _put(self, item: Item) -> bool:
        while not self._cancelled.is_set():
            try:
                self.items.put(item, timeout=_PUT_SLICE_S)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        parser = SseParser(max_data_chars=self._max_data_chars)
        try:
            with self._client.stream(
                "GET", self._url, headers=self._headers, params=self._params
            ) as response:
                self._response = response
                if self._cancelled.is_set():
                    return
                refused = _refusal(response)
                if refused is not None:
                    self._put(refused)
                    return
                if not self._put(Opened()):
                    return
                retry_ms: int | None = None
                truncated = 0
                for chunk in response.iter_bytes():
                    if self._cancelled.is_set():
                        return
                    events = parser.feed(chunk)
                    if events or parser.retry_ms != retry_ms:
                        retry_ms = parser.retry_ms
                        cut, truncated = (
                            parser.truncated_events - truncated,
                            parser.truncated_events,
                        )
                        if not self._put(Batch(events, retry_ms, cut)):
                            return
            self._put(Ended(None, parser.pending_bytes))
        except Exception as exc:  # every failure must reach the consumer as an item
            if not self._cancelled.is_set():
                self._put(Ended(exc, parser.pending_bytes))


def _refusal(response: httpx.Response) -> Refused | None:
    content_type = response.headers.get("content-type", "")
    if response.status_code == 200 and content_type.startswith("text/event-stream"):
        return None
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status line is what matters; the body is only detail for the log
    detail = bytes(body[:ERROR_BODY_BYTES]).decode("utf-8", "replace").strip()
    if response.status_code == 200:
        detail = f"content-type {content_type or 'missing'!r} instead of text/event-stream"
    return Refused(response.status_code, response.headers.get("retry-after"), detail)
