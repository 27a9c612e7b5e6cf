"""Clean shutdown: SIGINT/SIGTERM set a stop event that the ingest loop watches."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """Set ``stop`` on the first SIGINT/SIGTERM; a second one interrupts at once.

    The first signal lets ingest finish its current batch and append it (well within 2 s); a
    second signal raises ``KeyboardInterrupt`` for an operator who does not want to wait. The
    previous handlers are restored on exit. Outside the main thread this does nothing (Python
    only delivers signals there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        logger.info(
            "received %s: finishing the current batch, then stopping", signal.strsignal(signum)
        )
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
