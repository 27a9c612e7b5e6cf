"""Keep credentials out of everything we print: properties, URIs, error messages and logs.

pyiceberg and the SDKs below it often echo what they were given (a SQLAlchemy URL with its
password, a properties dict in a ``repr``), so every catalog property we show and every catalog
error we re-raise passes through here first.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

MASK = "**********"  # what pydantic prints for a SecretStr

# A property whose key contains one of these words holds a credential. Access-key *ids* are not
# secret to AWS, but they identify an account and a key pair, so we keep them out of output too.
SECRET_KEY_WORDS = (
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "access-key",
    "access_key",
    "account-key",
    "authorization",
    "private-key",
    "api-key",
    "apikey",
    "signature",
)

# Environment variables whose values must never appear in output (the AWS SDKs read them).
SECRET_ENV_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

# scheme://user:password@ — the password runs to the *last* "@" before the path, so an unescaped
# "@" inside it is still masked whole.
_USERINFO_PASSWORD = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^/\s]+)@"
)

# Secrets shorter than this are not searched for in free text: "ab" would mangle every message.
_MIN_SECRET_LEN = 4


def is_secret_key(key: str) -> bool:
    """Whether a property named ``key`` holds a credential."""
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEY_WORDS)


def redact_uri(value: str) -> str:
    """Mask the password of ``scheme://user:password@host`` and secret-looking query values."""
    masked = _USERINFO_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", value)
    if "?" not in masked or "://" not in masked:
        return masked
    try:
        parts = urlsplit(masked)
    except ValueError:
        return masked
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(is_secret_key(k) for k, _ in query):
        return masked
    safe = [(k, MASK if is_secret_key(k) else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(safe, safe="*")))


def redact(props: Mapping[str, str]) -> dict[str, str]:
    """Return a copy of catalog properties safe to print: credentials replaced by ``MASK``."""
    return {
        key: (MASK if value and is_secret_key(key) else redact_uri(str(value)))
        for key, value in props.items()
    }


def secret_values(props: Mapping[str, str], *, include_env: bool = True) -> list[str]:
    """Every credential in ``props`` (and the AWS credential variables) as plain strings."""
    found: list[str] = []
    for key, value in props.items():
        if not value:
            continue
        if is_secret_key(key):
            found.append(str(value))
        found.extend(match["password"] for match in _USERINFO_PASSWORD.finditer(str(value)))
    if include_env:
        found.extend(os.environ[name] for name in SECRET_ENV_VARS if os.environ.get(name))
    return found


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove ``secrets`` and any ``user:password@`` from free text such as an error message."""
    variants = {v for s in secrets for v in (s, quote(s, safe=""))}  # URIs carry them escaped
    for secret in sorted({s for s in variants if len(s) >= _MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _USERINFO_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)


class SecretLogFilter(logging.Filter):
    """Mask registered secrets in a record's message and traceback (never drops the record).

    botocore logs whole requests at DEBUG (the ``Authorization`` header names the access key id,
    ``X-Amz-Security-Token`` carries a session token), so the filter sits on the handlers, where
    it sees the records of every library logger.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        """Mask ``secrets`` from now on."""
        with self._lock:
            self._secrets = self._secrets | {s for s in secrets if len(s) >= _MIN_SECRET_LEN}

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place when it mentions a secret."""
        secrets = self._secrets
        if not secrets:
            return True
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the handler
            return True
        safe = redact_text(text, secrets)
        if safe != text:
            record.msg, record.args = safe, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: render the traceback once, scrubbed.
            record.exc_text = redact_text(
                logging.Formatter().formatException(record.exc_info), secrets
            )
        return True


LOG_FILTER = SecretLogFilter()


def redact_secrets_in_logs(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every record reaching the root logger's handlers."""
    LOG_FILTER.add(secrets)
    for handler in logging.getLogger().handlers:
        if LOG_FILTER not in handler.filters:
            handler.addFilter(LOG_FILTER)
