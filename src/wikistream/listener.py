"""What the metrics endpoint and the dashboard share as HTTP listeners: URL, bind errors, stop."""

from __future__ import annotations

import errno
import socketserver
import threading

from wikistream.errors import ConfigError


def http_url(host: str, port: int, path: str = "/") -> str:
    """``http://host:port/path``, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def bind_error(
    exc: OSError, host: str, port: int, *, serving: str, host_key: str, port_key: str, hint: str
) -> ConfigError:
    """The ConfigError for a listener that could not bind ``host:port``.

    A port in use names ``port_key`` and ``hint`` (how to choose another port); anything else
    (an address this machine does not have, a privileged port) names ``host_key`` too.
    """
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(
            f"cannot listen on {host}:{port} for {serving}: port {port} is already in use; stop "
            f"the other process or choose another port with {hint} (0 picks a free one)",
            key=port_key,
        )
    return ConfigError(
        f"cannot listen on {host}:{port} for {serving}: {exc.strerror or exc}; check "
        f"{host_key} / {port_key}",
        key=host_key,
    )


def stop_serving(
    server: socketserver.BaseServer, thread: threading.Thread, timeout_s: float
) -> None:
    """Stop ``server.serve_forever`` running in ``thread`` and release the socket (idempotent)."""
    if thread.is_alive():
        server.shutdown()
        thread.join(timeout=timeout_s)
    server.server_close()
