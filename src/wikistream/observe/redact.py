"""Keep alert-sink secrets out of log records written by libraries we call.

httpx logs every request line at INFO, full URL included, and a Slack webhook's token *is* its
URL path. A filter on those loggers rewrites any record that contains a registered secret.
"""

from __future__ import annotations

import logging
import threading

# Loggers of libraries that may echo what we hand them. Logger filters see only records created
# on that exact logger (not on children), so each one is named.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


class SecretRedactingFilter(logging.Filter):
    """Replace registered secrets in a record's rendered message (never drops the record)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, secret: str, replacement: str) -> None:
        """Redact ``secret`` as ``replacement`` from now on."""
        if secret:
            with self._lock:
                self._secrets[secret] = replacement

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place when it mentions a secret."""
        with self._lock:
            secrets = dict(self._secrets)
        if not secrets:
            return True
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler
            return True
        changed = False
        for secret, replacement in secrets.items():
            if secret in text:
                text = text.replace(secret, replacement)
                changed = True
        if changed:
            record.msg, record.args = text, None
        return True


_FILTER = SecretRedactingFilter()
_installed = False
_install_lock = threading.Lock()


def redact_secret_in_logs(secret: str, replacement: str) -> None:
    """Make sure ``secret`` never appears in records of the HTTP library loggers."""
    global _installed
    _FILTER.add(secret, replacement)
    with _install_lock:
        if not _installed:
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True
