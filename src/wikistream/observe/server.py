"""Serve ``/metrics`` over HTTP on a daemon thread (prometheus_client's WSGI server)."""

from __future__ import annotations

import errno
import logging
import threading
from dataclasses import dataclass, field
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from wikistream.errors import ConfigError
from wikistream.observe.metrics import PipelineMetrics

logger = logging.getLogger(__name__)


@dataclass
class MetricsServer:
    """A running metrics endpoint; ``close()`` stops it and frees the port."""

    host: str
    port: int
    _server: WSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        """The scrape URL, e.g. ``http://127.0.0.1:9108/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the socket (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_metrics(
    metrics: PipelineMetrics, host: str = "127.0.0.1", port: int = 9108
) -> MetricsServer:
    """Start serving ``metrics`` at ``http://host:port/metrics``; ``port=0`` picks a free port.

    Raises :class:`ConfigError` (key ``observe.metrics_port``) when the port is taken.
    """
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"metrics port {port} on {host} is already in use; stop the other process or "
                f"choose another port, e.g. WIKISTREAM_OBSERVE__METRICS_PORT={port + 1} "
                "(0 picks a free one)",
                key="observe.metrics_port",
            ) from exc
        raise ConfigError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}; check "
            "observe.metrics_host / observe.metrics_port",
            key="observe.metrics_host",
        ) from exc
    bound = MetricsServer(host, int(server.server_port), server, thread)
    logger.info("serving Prometheus metrics at %s", bound.url)
    return bound
