"""Keep secrets out of free text and log records: one scrubber and one log filter for every stage.

Two kinds of secrets reach log records. Catalog and S3 credentials (lake) may be echoed by
botocore or pyiceberg on any library logger, so :func:`redact_secrets_in_logs` puts the filter on
the root logger's handlers, where it sees every propagated record. Alert-sink secrets (observe)
are echoed by httpx/httpcore request logs; :func:`redact_secret_in_library_logs` puts the same
filter on those exact loggers, so their records are rewritten even for a handler added later.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote

MASK = "**********"  # what pydantic prints for a SecretStr

MIN_SECRET_LEN = 4
"""Secrets shorter than this are not searched for in free text: "ab" would mangle every message."""

# Loggers of libraries that may echo what we hand them. Logger filters see only records created
# on that exact logger (not on children), so each one is named.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)

# scheme://user:password@ — the password runs to the *last* "@" before the path, so an unescaped
# "@" inside it is still masked whole.
_USERINFO_PASSWORD = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^/\s]+)@"
)


def mask_userinfo(text: str) -> str:
    """Mask the password of every ``scheme://user:password@`` in ``text``."""
    return _USERINFO_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


def userinfo_passwords(text: str) -> list[str]:
    """The passwords of every ``scheme://user:password@`` in ``text``."""
    return [match["password"] for match in _USERINFO_PASSWORD.finditer(text)]


def scrub(text: str, replacements: Mapping[str, str]) -> str:
    """Replace every secret key of ``replacements`` by its value, then mask URI passwords.

    Longer secrets go first, so a secret that contains another is replaced whole.
    """
    for secret in sorted(replacements, key=len, reverse=True):
        text = text.replace(secret, replacements[secret])
    return mask_userinfo(text)


def _variants(secret: str) -> tuple[str, str]:
    return secret, quote(secret, safe="")  # URIs carry secrets escaped


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove ``secrets`` and any ``user:password@`` from free text such as an error message."""
    variants = {v for s in secrets for v in _variants(s) if len(v) >= MIN_SECRET_LEN}
    return scrub(text, dict.fromkeys(variants, MASK))


class SecretLogFilter(logging.Filter):
    """Mask registered secrets in a record's message and traceback (never drops the record).

    botocore logs whole requests at DEBUG (the ``Authorization`` header names the access key id,
    ``X-Amz-Security-Token`` carries a session token); httpx logs request lines whose URL may be
    a webhook token. Each secret has its own replacement (:data:`MASK` unless told otherwise).
    """

    def __init__(self) -> None:
        super().__init__()
        self._replacements: Mapping[str, str] = {}
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str], replacement: str = MASK) -> None:
        """Replace each non-empty secret in ``secrets`` (also URL-escaped) by ``replacement``."""
        with self._lock:
            updated = dict(self._replacements)
            for secret in secrets:
                if secret:
                    updated.update(dict.fromkeys(_variants(secret), replacement))
            self._replacements = updated  # swapped whole: filter() reads it without the lock

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place when it mentions a secret."""
        replacements = self._replacements
        if not replacements:
            return True
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler
            return True
        safe = scrub(text, replacements)
        if safe != text:
            record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: render the traceback once, scrubbed.
            record.exc_text = scrub(
                logging.Formatter().formatException(record.exc_info), replacements
            )
        return True


LOG_FILTER = SecretLogFilter()
_library_loggers_guarded = False
_install_lock = threading.Lock()


def redact_secrets_in_logs(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every record reaching the root logger's handlers.

    Secrets shorter than :data:`MIN_SECRET_LEN` are ignored, as in :func:`redact_text`.
    """
    LOG_FILTER.add(s for s in secrets if len(s) >= MIN_SECRET_LEN)
    with _install_lock:
        for handler in logging.getLogger().handlers:
            if LOG_FILTER not in handler.filters:
                handler.addFilter(LOG_FILTER)


def redact_secret_in_library_logs(secret: str, replacement: str) -> None:
    """Make sure ``secret`` never appears in records of the HTTP library loggers."""
    global _library_loggers_guarded
    LOG_FILTER.add([secret], replacement)
    with _install_lock:
        if not _library_loggers_guarded:
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).addFilter(LOG_FILTER)
            _library_loggers_guarded = True
