"""The dashboard's HTTP server: static pages, page JSON and the query API (stdlib only).

Bound to loopback by default; any other address needs a token, checked on every request except
``/api/health`` (``Authorization: Bearer <token>``, or the ``wikistream_token`` cookie that opening
``/?token=<token>`` sets). On loopback the ``Host`` header must name loopback too, so a web page
elsewhere cannot reach the server through DNS rebinding. Every response forbids framing and
cross-origin scripts.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from wikistream.errors import ConfigError, QueryBusyError, QueryError, WikiStreamError
from wikistream.listener import bind_error, http_url, stop_serving

if TYPE_CHECKING:
    from wikistream.serve.dashboard import Dashboard
    from wikistream.settings import Settings

log = logging.getLogger(__name__)

COOKIE = "wikistream_token"
MAX_BODY = 1_000_000
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&\s\"]*")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def static_file(name: str) -> bytes | None:
    """A file shipped in ``wikistream/serve/static`` (None if absent or outside it)."""
    if not name or ".." in name.split("/") or name.startswith("/"):
        return None
    node = resources.files("wikistream.serve").joinpath("static")
    for part in name.split("/"):
        node = node.joinpath(part)
    try:
        return node.read_bytes() if node.is_file() else None
    except OSError:
        return None


@dataclass
class ServerHandle:
    """A running dashboard server: its port and URL; ``close()`` stops it."""

    port: int
    url: str
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def close(self) -> None:
        """Stop serving, wait for the serving thread and release the event log."""
        stop_serving(self._server, self._thread, timeout_s=10)
        self._server.close_dashboard()

    def running(self) -> bool:
        """True until the server's loop has returned."""
        return not self._server.stopped.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], settings: Settings, token: str | None) -> None:
        self.settings = settings
        self.token = token
        self.check_host = is_loopback(address[0])
        self._dashboard: Dashboard | None = None
        self._dashboard_lock = threading.Lock()
        self.stopped = threading.Event()  # serve_forever has returned
        super().__init__(address, _Handler)

    def serve_until_shutdown(self) -> None:
        """``serve_forever``, then set :attr:`stopped`."""
        try:
            self.serve_forever()
        finally:
            self.stopped.set()

    @property
    def dashboard(self) -> Dashboard:
        """The page computer, built on the first request.

        It loads the lake libraries (pyiceberg, pyarrow, DuckDB: ~90 MB), which `wikistream
        run` then does not hold while nobody opens the dashboard.
        """
        with self._dashboard_lock:
            if self._dashboard is None:
                from wikistream.serve.dashboard import Dashboard

                self._dashboard = Dashboard(self.settings)
            return self._dashboard

    def close_dashboard(self) -> None:
        """Release the dashboard's event log handle (if it was ever built)."""
        with self._dashboard_lock:
            if self._dashboard is not None:
                self._dashboard.close()


def start_server(
    settings: Settings, host: str | None = None, port: int | None = None, token: str | None = None
) -> ServerHandle:
    """Serve the dashboard in a daemon thread; refuse a non-loopback address without a token."""
    host = host if host is not None else settings.serve.host
    port = port if port is not None else settings.serve.port
    if token is None and settings.serve.token is not None:
        token = settings.serve.token.get_secret_value()
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve the dashboard on non-loopback address {host!r} without a token; "
            "set serve.token (WIKISTREAM_SERVE__TOKEN) or bind to 127.0.0.1",
            key="serve.token",
        )
    try:
        server = _Server((host, port), settings, token or None)
    except OSError as exc:
        raise bind_error(
            exc,
            host,
            port,
            serving="the dashboard",
            host_key="serve.host",
            port_key="serve.port",
            hint="--port or serve.port",
        ) from exc
    thread = threading.Thread(
        target=server.serve_until_shutdown, name="wikistream-serve", daemon=True
    )
    thread.start()
    bound = server.server_address[1]
    url = http_url(host, bound)
    log.info("dashboard listening on %s%s", url, " (token required)" if token else "")
    return ServerHandle(port=int(bound), url=url, _server=server, _thread=thread)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "wikistream"
    sys_version = ""
    timeout = 30  # seconds; an idle keep-alive connection gives its thread back

    def log_message(self, format: str, *args: Any) -> None:
        # The request line may carry ?token=…: never let the secret reach a log.
        log.debug("%s %s", self.address_string(), _TOKEN_IN_URL.sub(r"\1***", format % args))

    # -- plumbing -------------------------------------------------------------------------
    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str).encode()
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _error(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"error": message, "kind": kind}, headers)

    def _host_ok(self) -> bool:
        if not self.server.check_host:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return is_loopback(name)

    def _token_ok(self, query: dict[str, list[str]]) -> tuple[bool, bool]:
        """(authorized, came with ?token= so a cookie should be set)."""
        token = self.server.token
        if token is None:
            return True, False
        offered = []
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        if COOKIE in cookie:
            offered.append(cookie[COOKIE].value)
        from_query = query.get("token", [])
        offered.extend(from_query)
        ok = any(hmac.compare_digest(o.encode(), token.encode()) for o in offered)
        return ok, ok and bool(from_query)

    # -- routing ----------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._dispatch(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._error(413, f"request body over {MAX_BODY} bytes", "too_large")
            return
        body = self.rfile.read(length) if length > 0 else b""
        self._dispatch(body)

    def _dispatch(self, body: bytes | None) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if not self._host_ok():
            self._error(
                403, "Host header is not loopback; open the dashboard via 127.0.0.1", "host"
            )
            return
        if path == "/api/health":
            self._json(200, {"status": "ok"})
            return
        authorized, set_cookie = self._token_ok(query)
        if not authorized:
            self._error(401, "a token is required: open /?token=<serve.token>", "unauthorized")
            return
        try:
            self._route(path, query, body, set_cookie)
        except QueryBusyError as exc:
            self._error(429, str(exc), "busy", {"Retry-After": "2"})
        except QueryError as exc:
            self._error(400, str(exc), _kind(exc))
        except WikiStreamError as exc:
            log.warning("dashboard request %s failed: %s", path, exc)
            self._error(503, str(exc), type(exc).__name__)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("dashboard request %s failed", path)
            self._error(500, "internal error; see the server log", "internal")

    def _route(
        self, path: str, query: dict[str, list[str]], body: bytes | None, set_cookie: bool
    ) -> None:
        dash = self.server.dashboard
        day = query["date"][0] if query.get("date") else None
        if body is not None and path != "/api/query":
            self._error(405, f"POST is not allowed on {path}", "method")
        elif path in ("/", "/index.html"):
            page = static_file("index.html") or b""
            headers = {}
            if set_cookie and self.server.token:
                headers["Set-Cookie"] = (
                    f"{COOKIE}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"
                )
            self._send(200, page, STATIC_TYPES[".html"], headers)
        elif path.startswith("/static/"):
            name = path[len("/static/") :]
            data = static_file(name)
            if data is None:
                self._error(404, f"no static file {name!r}", "not_found")
            else:
                suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
                self._send(200, data, STATIC_TYPES.get(suffix, "application/octet-stream"))
        elif path == "/api/meta":
            self._json(200, dash.meta())
        elif path == "/api/pipeline":
            self._json(200, dash.pipeline())
        elif path == "/api/activity":
            self._json(200, dash.activity(day))
        elif path == "/api/risk":
            self._json(200, dash.risk(day))
        elif path == "/api/daily":
            self._json(200, dash.daily())
        elif path == "/api/query":
            self._query(query, body)
        else:
            self._error(404, f"no such page {path!r}", "not_found")

    def _query(self, query: dict[str, list[str]], body: bytes | None) -> None:
        if body is None:
            params = {k: v[0] for k, v in query.items() if v}
        else:
            # JSON only: a cross-site HTML form cannot send it without a CORS preflight.
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                self._error(415, "POST /api/query needs Content-Type: application/json", "media")
                return
            try:
                params = json.loads(body or b"{}")
            except ValueError as exc:
                self._error(400, f"the request body is not JSON: {exc}", "bad_request")
                return
            if not isinstance(params, dict):
                self._error(400, "the request body must be a JSON object", "bad_request")
                return
        sql = params.get("sql")
        if not isinstance(sql, str):
            self._error(400, "give the query as 'sql' (query string or JSON body)", "bad_request")
            return
        limit = _int_or_none(params.get("limit"))
        as_of = params.get("as_of")
        from wikistream.serve.lakeread import parse_as_of

        result = self.server.dashboard.sandbox.run(
            sql, as_of=parse_as_of(str(as_of)) if as_of else None, row_limit=limit
        )
        self._json(200, result.to_json())


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise QueryError(f"limit must be an integer, got {value!r}") from None


def _kind(exc: QueryError) -> str:
    name = type(exc).__name__
    return {
        "QueryRefusedError": "refused",
        "QueryTimeoutError": "timeout",
    }.get(name, "query")
