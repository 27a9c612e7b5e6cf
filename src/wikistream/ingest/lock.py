"""One ingest per data dir: an exclusive lock on ``<data-dir>/ingest.lock``."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wikistream.errors import LockHeldError

LOCK_FILE = "ingest.lock"


@contextmanager
def hold_ingest_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data dir's ingest lock, or raise :class:`LockHeldError` naming the holder.

    Two ingest processes on one log would each resume from the same checkpoint and append the
    same events. The lock is an OS file lock, so it is released even when the holder is killed.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise LockHeldError(
                f"another `wikistream ingest` (pid {holder}) is running on {data_dir}; stop it "
                "first (kill -TERM <pid>) — only one ingest may write a data dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
