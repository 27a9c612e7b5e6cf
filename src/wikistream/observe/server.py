"""Serve ``/metrics`` over HTTP on a daemon thread (prometheus_client's WSGI server)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from wikistream.listener import bind_error, http_url, stop_serving
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
        return http_url(self.host, self.port, "/metrics")

    def close(self) -> None:
        """Stop serving and release the socket (idempotent)."""
        stop_serving(self._server, self._thread, timeout_s=5)

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
        raise bind_error(
            exc,
            host,
            port,
            serving="metrics",
            host_key="observe.metrics_host",
            port_key="observe.metrics_port",
            hint=f"e.g. WIKISTREAM_OBSERVE__METRICS_PORT={port + 1}",
        ) from exc
    bound = MetricsServer(host, int(server.server_port), server, thread)
    logger.info("serving Prometheus metrics at %s", bound.url)
    return bound
