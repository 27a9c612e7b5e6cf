"""Turn whatever pyiceberg, SQLAlchemy, boto3, requests or pyarrow raise into our error tree.

Each backend fails in its own words (``OperationalError``, ``EndpointConnectionError``,
``OSError: AWS Error ACCESS_DENIED``, ``ForbiddenError``…), and several echo the catalog
properties, credentials included. :func:`catalog_errors` classifies the failure (unreachable →
retryable :class:`CatalogUnavailableError`; credentials or settings → :class:`CatalogError`;
concurrent commit → :class:`CommitConflictError`), says what to do, and scrubs every secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pyiceberg import exceptions as ice

from wikistream.errors import (
    CatalogError,
    CatalogUnavailableError,
    CommitConflictError,
    DependencyMissingError,
    WikiStreamError,
)
from wikistream.lake.catalog_config import sigv4_enabled
from wikistream.lake.redact import redact_uri, secret_values
from wikistream.redaction import redact_text

# Answers callers act on (create if missing, load if it exists): never translated.
PASS_THROUGH: tuple[type[BaseException], ...] = (
    ice.NoSuchTableError,
    ice.NoSuchNamespaceError,
    ice.NoSuchViewError,
    ice.NoSuchIdentifierError,
    ice.TableAlreadyExistsError,
    ice.NamespaceAlreadyExistsError,
    ice.NamespaceNotEmptyError,
)

# Optional modules a catalog may import lazily, and the extra that installs each.
_EXTRAS = {"boto3": "aws", "botocore": "aws", "psycopg2": "postgres", "psycopg": "postgres"}

_UNREACHABLE_WORDS = (
    "connection refused",
    "could not connect",
    "couldn't connect",
    "failed to establish a new connection",
    "name or service not known",
    "could not resolve",
    "temporary failure in name resolution",
    "timed out",
    "timeout",
    "network_connection",
    "connection reset",
    "connection aborted",
    "max retries exceeded",
    "service unavailable",
    "slowdown",
    "server closed the connection",
    "the database system is starting up",
    "the database system is shutting down",
)
_CREDENTIAL_WORDS = (
    "access denied",
    "access_denied",
    "accessdenied",
    "forbidden",
    "unauthorized",
    "not authorized",
    "notauthorized",
    "signaturedoesnotmatch",
    "signature we calculated does not match",
    "invalidaccesskeyid",
    "invalid_access_key_id",
    "access key id you provided does not exist",
    "unrecognizedclient",
    "security token included in the request is invalid",
    "expiredtoken",
    "token is expired",
    "bearer token is invalid",
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "unable to locate credentials",
)
_MISSING_BUCKET_WORDS = ("nosuchbucket", "bucket does not exist", "no_such_bucket")


def _describe_target(name: str, props: Mapping[str, str]) -> str:
    parts = [f"type={props.get('type', '?')}"]
    if props.get("uri"):
        parts.append(f"uri={redact_uri(props['uri'])}")
    if props.get("warehouse"):
        parts.append(f"warehouse={redact_uri(props['warehouse'])}")
    if props.get("s3.endpoint"):
        parts.append(f"s3.endpoint={props['s3.endpoint']}")
    return f"catalog {name!r} ({', '.join(parts)})"


def _missing_module(exc: BaseException) -> str | None:
    if isinstance(exc, ImportError):
        root = (exc.name or "").split(".", 1)[0]
        return root if root in _EXTRAS else None
    return None


def _is_unreachable(exc: BaseException, text: str) -> bool:
    if isinstance(exc, ice.ServiceUnavailableError | ice.ServerError | ConnectionError):
        return True
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    unreachable_kinds = {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ConnectTimeout",
        "ReadTimeout",
    }
    if kinds & unreachable_kinds:
        return True
    if "ConnectionError" in kinds and "requests" in type(exc).__module__:
        return True
    return any(word in text for word in _UNREACHABLE_WORDS)


def _is_credentials(exc: BaseException, text: str) -> bool:
    if isinstance(
        exc,
        ice.UnauthorizedError | ice.ForbiddenError | ice.OAuthError | ice.AuthorizationExpiredError,
    ):
        return True
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if kinds & {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}:
        return True
    return any(word in text for word in _CREDENTIAL_WORDS)


def credential_hint(exc: BaseException, props: Mapping[str, str]) -> str:
    """Where the credentials that ``exc`` complains about come from, for this catalog kind."""
    origin = type(exc).__module__.split(".", 1)[0]
    if origin in {"sqlalchemy", "psycopg2", "psycopg"}:
        return (
            "check the user and password in the [lake.catalog] uri "
            "(e.g. WIKISTREAM_LAKE__CATALOG__URI=postgresql+psycopg2://user:password@host/db)"
        )
    aws = (
        "check the AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE, or [lake.s3] access_key_id / secret_access_key)"
    )
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):  # pyarrow's S3
        return f"{aws}, and that they may read and write the warehouse bucket"
    if props.get("type") == "rest" and not sigv4_enabled(props):
        return "check 'credential' (OAuth2 client_id:secret) or 'token' in [lake.catalog]"
    return aws


def translate_catalog_error(
    exc: BaseException, *, action: str, name: str, props: Mapping[str, str]
) -> WikiStreamError:
    """Our error for ``exc``, raised while ``action`` on the catalog ``name``; secrets scrubbed."""
    if isinstance(exc, WikiStreamError):
        return exc
    target = _describe_target(name, props)
    module = _missing_module(exc)
    if module is not None:
        return DependencyMissingError(target, _EXTRAS[module], module)
    raw = redact_text(f"{type(exc).__name__}: {exc}", secret_values(props))
    detail = " ".join(raw.split())  # drivers put newlines in their messages
    text = detail.lower()
    head = f"{target}: {action} failed"
    if isinstance(exc, ice.CommitFailedException):
        return CommitConflictError(
            f"{head}: another writer committed first ({detail}); reload the table and retry"
        )
    if isinstance(exc, ice.CommitStateUnknownException):
        return CatalogUnavailableError(
            f"{head}: the catalog did not confirm the commit ({detail}); it may or may not be "
            "applied: reload the table and check its snapshots before retrying"
        )
    # pyiceberg's own "cannot build this catalog" errors; they echo the properties, so they
    # are classified before any word search of their text.
    if isinstance(exc, ValueError) and "catalog" in text:
        return CatalogError(
            f"{head}: invalid catalog settings ({detail}); fix the [lake] catalog settings "
            "(see them with `wikistream catalog show`)"
        )
    if _is_credentials(exc, text):
        return CatalogError(
            f"{head}: credentials were rejected ({detail}); {credential_hint(exc, props)}"
        )
    if any(word in text for word in _MISSING_BUCKET_WORDS):
        return CatalogError(
            f"{head}: the bucket does not exist ({detail}); create it or fix [lake] warehouse"
        )
    if _is_unreachable(exc, text):
        return CatalogUnavailableError(
            f"{head}: cannot reach the service ({detail}); check that it is running and "
            "reachable from this machine, then retry"
        )
    return CatalogError(
        f"{head} ({detail}); check the [lake] catalog settings (`wikistream catalog show`) "
        "and run `wikistream catalog check`"
    )


@contextmanager
def catalog_errors(action: str, name: str, props: Mapping[str, str]) -> Iterator[None]:
    """Re-raise failures inside the block as our errors (lookup answers pass through)."""
    try:
        yield
    except PASS_THROUGH:
        raise
    except Exception as exc:
        error = translate_catalog_error(exc, action=action, name=name, props=props)
        if error is exc:
            raise
        # `from None`: the original exception's text and traceback may hold the credentials.
        raise error from None
