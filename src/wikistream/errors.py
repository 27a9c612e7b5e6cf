"""WikiStream's one exception tree.

Every error WikiStream raises on purpose derives from :class:`WikiStreamError`. Messages say what
failed, with which value, and what to do next. ``retryable`` tells a supervisor whether trying the
same thing again later can succeed (a broker that is down) or not (a bad setting).

    WikiStreamError
    ├── ConfigError                  bad setting; names the key
    ├── DependencyMissingError       optional extra not installed; names the pip extra
    ├── IngestError
    │   ├── SourceUnavailableError   stream unreachable / HTTP error (retryable)
    │   ├── SinceOutOfRangeError     --since beyond the 7-day retention
    │   └── ReplayFileError          replay file missing or unreadable
    ├── EventLogError
    │   ├── EventLogUnavailableError broker/database unreachable (retryable)
    │   └── OffsetOutOfRangeError    asked for records the log no longer holds
    ├── LakeError
    │   ├── CatalogError             catalog misconfigured or credentials rejected
    │   │   └── CatalogUnavailableError  catalog or object store unreachable (retryable)
    │   ├── CommitConflictError      concurrent commit; retry (retryable)
    │   └── RecordParseError         a log record cannot become a bronze row
    ├── QualityError
    │   └── GateFailedError          an error-level DQ check failed
    ├── OrchestrationError
    │   ├── StepTimeoutError         a step exceeded its timeout (retryable)
    │   └── LockHeldError            another cycle holds the lock
    ├── AlertDeliveryError           a sink could not deliver (retryable)
    └── QueryError                   a query failed (syntax, unknown column …)
        ├── QueryRefusedError        a query outside the read-only sandbox
        ├── QueryTimeoutError        a query ran past the time limit and was stopped
        └── QueryBusyError           too many queries running (retryable)
"""

from __future__ import annotations


class WikiStreamError(Exception):
    """Root of every error WikiStream raises on purpose."""

    retryable: bool = False


class ConfigError(WikiStreamError):
    """A setting is missing, unknown or invalid; the message names the key."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class DependencyMissingError(WikiStreamError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the Python module '{module}', which is not installed; "
            f"install it with: pip install 'wikistream[{extra}]'"
        )
        self.extra = extra
        self.module = module


class IngestError(WikiStreamError):
    """Ingest from the event source failed."""


class SourceUnavailableError(IngestError):
    """The event source cannot be reached or answered with an error."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SinceOutOfRangeError(IngestError):
    """A --since start point is outside the source's retention window."""


class ReplayFileError(IngestError):
    """A replay file is missing or unreadable."""


class EventLogError(WikiStreamError):
    """The durable event log failed."""


class EventLogUnavailableError(EventLogError):
    """The event log backend (SQLite file, Kafka broker) cannot be reached."""

    retryable = True


class OffsetOutOfRangeError(EventLogError):
    """Records at the requested position were removed by retention."""


class LakeError(WikiStreamError):
    """Reading or writing the Iceberg lake failed."""


class CatalogError(LakeError):
    """The Iceberg catalog or its warehouse is misconfigured or refused our credentials."""


class CatalogUnavailableError(CatalogError):
    """The catalog service or the object store cannot be reached right now."""

    retryable = True


class CommitConflictError(LakeError):
    """Another writer committed first; re-read and retry."""

    retryable = True


class RecordParseError(LakeError):
    """A log record cannot be turned into a table row."""


class QualityError(WikiStreamError):
    """A data-quality run failed to execute."""


class GateFailedError(QualityError):
    """An error-level data-quality check failed; downstream must not consume the slice."""

    def __init__(self, message: str, *, run_id: str, layer: str) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.layer = layer


class OrchestrationError(WikiStreamError):
    """A pipeline step could not be run."""


class StepTimeoutError(OrchestrationError):
    """A pipeline step exceeded its timeout."""

    retryable = True


class LockHeldError(OrchestrationError):
    """Another process holds the pipeline lock."""


class AlertDeliveryError(WikiStreamError):
    """An alert sink could not deliver a message."""

    retryable = True


class QueryError(WikiStreamError):
    """A SQL query failed."""


class QueryRefusedError(QueryError):
    """A query was refused by the read-only sandbox."""


class QueryTimeoutError(QueryError):
    """A query ran longer than the sandbox's time limit and was interrupted."""


class QueryBusyError(QueryError):
    """Too many queries are running at once; retry shortly."""

    retryable = True
