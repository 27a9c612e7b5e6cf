"""Keep catalog credentials out of everything we print: properties and URIs.

pyiceberg and the SDKs below it often echo what they were given (a SQLAlchemy URL with its
password, a properties dict in a ``repr``), so every catalog property we show passes through
here first; error messages and log records go through :mod:`wikistream.redaction` with the
secrets :func:`secret_values` finds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wikistream.redaction import MASK, mask_userinfo, userinfo_passwords

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


def is_secret_key(key: str) -> bool:
    """Whether a property named ``key`` holds a credential."""
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEY_WORDS)


def redact_uri(value: str) -> str:
    """Mask the password of ``scheme://user:password@host`` and secret-looking query values."""
    masked = mask_userinfo(value)
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
        found.extend(userinfo_passwords(str(value)))
    if include_env:
        found.extend(os.environ[name] for name in SECRET_ENV_VARS if os.environ.get(name))
    return found
