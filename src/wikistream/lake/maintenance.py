"""Table maintenance for any Iceberg table: compaction, snapshot expiry, orphan-file removal.

* **Compaction** rewrites a *closed* partition (every date in its partition key is before today,
  UTC; an unpartitioned table always qualifies) that has more than ``compact_max_files`` data files:
  read the partition, then delete + append it in one transaction. Readers see the same rows before
  and after; table properties (bronze's log position) are untouched.
* **Snapshot expiry** keeps the newest ``snapshot_min_keep`` snapshots and branch/tag heads, and
  expires snapshots older than ``snapshot_max_age_h`` or beyond the newest ``snapshot_max_count``.
  Files only the expired snapshots referenced (manifest lists, manifests, data files) are deleted.
* **Audit retention** deletes ``dq_audit`` run dates older than ``audit_retention_days``.
* **Orphan removal** deletes files under the table location that no snapshot or metadata file
  references and that are older than ``orphan_grace_h`` (younger files may belong to a commit in
  flight).

Every commit is optimistic: on ``CommitFailedException`` (a writer committed first) the table is
re-read and the step re-planned, so no concurrent commit is ever lost.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyarrow.fs import FileSelector, FileType
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.table import FileScanTask, Table
from pyiceberg.transforms import DayTransform, IdentityTransform

from wikistream.clock import utc_now
from wikistream.errors import CommitConflictError, LakeError
from wikistream.lake.predicates import lt
from wikistream.lake.reachable import ManifestCache, metadata_files, snapshot_files
from wikistream.lake.schemas import ALL_TABLES, PROFILE_METRICS, QUALITY_RESULTS
from wikistream.lake.transaction import begin

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from wikistream.lake.config import LakeSettings

log = logging.getLogger(__name__)

WRITER_PROPERTY = "wikistream.writer"
MAINTENANCE_TAGS = {WRITER_PROPERTY: "maintenance", "wikistream.operation": "compact"}
RETENTION_TAGS = {WRITER_PROPERTY: "maintenance", "wikistream.operation": "audit-retention"}
AUDIT_TABLES = frozenset({QUALITY_RESULTS.identifier, PROFILE_METRICS.identifier})
COMMIT_ATTEMPTS = 10
_EPOCH = date(1970, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class MaintenanceReport:
    """What maintenance did to one table."""

    table: str
    partitions_compacted: int = 0
    data_files_before: int = 0
    data_files_after: int = 0
    snapshots_expired: int = 0
    snapshots_left: int = 0
    expired_files_deleted: int = 0
    orphans_deleted: int = 0
    orphan_bytes: int = 0
    audit_rows_deleted: int = 0
    commit_retries: int = 0
    duration_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))


# -- audit retention -------------------------------------------------------------------------
def expire_audit_rows(
    load: Callable[[], Table], days: int, now: datetime, report: MaintenanceReport
) -> None:
    """Delete ``dq_audit`` rows whose ``run_date`` is more than ``days`` before ``now`` (0: none).

    Continuous mode gates every layer every few seconds, about a million audit rows a day. Both
    audit tables are partitioned by ``run_date``: the delete drops whole files (metadata only).
    """
    if days <= 0:
        return
    cutoff = (now - timedelta(days=days)).date().isoformat()
    old = lt("run_date", cutoff)
    for attempt in range(COMMIT_ATTEMPTS):
        table = load()
        if table.current_snapshot() is None:
            return
        rows = sum(task.file.record_count for task in table.scan(row_filter=old).plan_files())
        if rows == 0:
            return
        try:
            table.delete(delete_filter=old, snapshot_properties=RETENTION_TAGS)
        except CommitFailedException:
            report.commit_retries += 1
            _backoff(attempt)
            continue
        report.audit_rows_deleted = rows
        log.info("%s: deleted %d audit rows older than %s", report.table, rows, cutoff)
        return
    raise CommitConflictError(
        f"audit retention of {report.table} lost {COMMIT_ATTEMPTS} commit races to the gates; "
        "it runs again with the next maintenance"
    )


# -- compaction ------------------------------------------------------------------------------
PartitionKey = tuple[int, tuple[Any, ...]]


def _key(task: FileScanTask) -> PartitionKey:
    record = task.file.partition
    return task.file.spec_id, tuple(record[i] for i in range(len(record)))


def _files_by_partition(table: Table) -> dict[PartitionKey, list[FileScanTask]]:
    groups: dict[PartitionKey, list[FileScanTask]] = {}
    if table.current_snapshot() is None:
        return groups
    for task in table.scan().plan_files():
        groups.setdefault(_key(task), []).append(task)
    return groups


def _is_closed(spec: PartitionSpec, values: tuple[Any, ...], today: date) -> bool:
    """True when every date in the partition key is before ``today`` (UTC)."""
    if not spec.fields:
        return True
    dates: list[date] = []
    for part, value in zip(spec.fields, values, strict=True):
        if isinstance(part.transform, DayTransform) and isinstance(value, int):
            dates.append(_EPOCH + timedelta(days=value))
        elif (
            isinstance(part.transform, IdentityTransform)
            and isinstance(value, str)
            and _DATE.match(value)
        ):
            dates.append(date.fromisoformat(value))
    return bool(dates) and max(dates) < today


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no filter literal for partition value {value!r}")


def partition_filter(
    table: Table, spec: PartitionSpec, values: tuple[Any, ...]
) -> BooleanExpression | str:
    """A row filter that selects exactly one partition (identity and day transforms)."""
    schema = table.schema()
    parts: list[str] = []
    for part, value in zip(spec.fields, values, strict=True):
        name = schema.find_column_name(part.source_id) or str(part.source_id)
        column = '"' + name.replace('"', '""') + '"'
        if value is None:
            parts.append(f"{column} is null")
        elif isinstance(part.transform, IdentityTransform):
            parts.append(f"{column} = {_literal(value)}")
        elif isinstance(part.transform, DayTransform):
            start = datetime.combine(_EPOCH + timedelta(days=value), datetime.min.time(), UTC)
            end = start + timedelta(days=1)
            parts.append(f"{column} >= '{start.isoformat()}' and {column} < '{end.isoformat()}'")
        else:
            raise TypeError(f"compaction does not support the {part.transform} transform")
    return " and ".join(parts) if parts else AlwaysTrue()


def _compact_partition(
    load: Callable[[], Table], key: PartitionKey, max_files: int, report: MaintenanceReport
) -> bool:
    """Rewrite one partition into fewer files; False when it no longer needs it."""
    for attempt in range(COMMIT_ATTEMPTS):
        table = load()
        spec_id, values = key
        if spec_id != table.spec().spec_id:
            report.notes.append(f"partition {values} uses an old partition spec; not compacted")
            return False
        row_filter = partition_filter(table, table.spec(), values)
        scan = table.scan(row_filter=row_filter)
        tasks = list(scan.plan_files())
        if len(tasks) <= max_files:
            return False
        if any(_key(t) != key for t in tasks):
            report.notes.append(f"partition {values}: filter matches other partitions; skipped")
            return False
        rows = scan.to_arrow()
        try:
            with begin(table) as tx:
                tx.overwrite(
                    rows, overwrite_filter=row_filter, snapshot_properties=MAINTENANCE_TAGS
                )
        except CommitFailedException:
            report.commit_retries += 1
            _backoff(attempt)
            continue
        return True
    raise CommitConflictError(
        f"compaction of {report.table} partition {key[1]} lost {COMMIT_ATTEMPTS} commit races; "
        "run `wikistream maintain` again when writers are quieter"
    )


def compact_table(
    load: Callable[[], Table], max_files: int, report: MaintenanceReport, now: datetime
) -> None:
    """Compact every closed partition with more than ``max_files`` data files."""
    table = load()
    groups = _files_by_partition(table)
    report.data_files_before = sum(len(tasks) for tasks in groups.values())
    today = now.astimezone(UTC).date()
    specs = table.specs()
    for key, tasks in sorted(groups.items(), key=lambda item: str(item[0])):
        if len(tasks) <= max_files or not _is_closed(specs[key[0]], key[1], today):
            continue
        try:
            if _compact_partition(load, key, max_files, report):
                report.partitions_compacted += 1
        except TypeError as exc:
            report.notes.append(str(exc))
    report.data_files_after = sum(len(t) for t in _files_by_partition(load()).values())


# -- snapshot expiry -------------------------------------------------------------------------
def expire_snapshots(
    load: Callable[[], Table],
    *,
    max_age_h: float,
    min_keep: int,
    max_count: int,
    now: datetime,
    report: MaintenanceReport,
    table: Table | None = None,
    attempts: int = COMMIT_ATTEMPTS,
    data_files: bool = True,
) -> Table:
    """Expire snapshots past the policy and delete the files only they referenced.

    Starts from ``table`` when given (and re-loads on a conflict); returns the table as left
    after the commit (its metadata may include other writers' newer commits). With
    ``data_files=False`` only manifest lists and manifests are considered (cheap: no manifest is
    read); data files that only expired snapshots referenced are then left to orphan removal.
    """
    for attempt in range(attempts):
        table = table if table is not None else load()
        newest_first = sorted(table.snapshots(), key=lambda s: s.timestamp_ms, reverse=True)
        protected = {ref.snapshot_id for ref in table.metadata.refs.values()}
        cutoff_ms = (now - timedelta(hours=max_age_h)).timestamp() * 1000
        keep = max(min_keep, 1)
        doomed = [
            snap
            for i, snap in enumerate(newest_first)
            if i >= keep
            and snap.snapshot_id not in protected
            and (snap.timestamp_ms < cutoff_ms or i >= max(max_count, keep))
        ]
        if not doomed:
            report.snapshots_left = len(newest_first)
            return table
        cache = ManifestCache()
        before = snapshot_files(table, doomed, cache, data_files=data_files)
        try:
            table.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in doomed]).commit()
        except (CommitFailedException, ValueError):  # ValueError: already expired by another run
            report.commit_retries += 1
            table = None
            _backoff(attempt)
            continue
        after = snapshot_files(table, table.snapshots(), cache, data_files=data_files)
        after |= metadata_files(table)
        for path in sorted(before - after):
            try:
                table.io.delete(path)
            except OSError as exc:  # already gone, or not ours to delete: orphan removal retries
                log.info("could not delete expired file %s: %s", path, exc)
            else:
                report.expired_files_deleted += 1
        report.snapshots_expired += len(doomed)
        report.snapshots_left = len(table.snapshots())
        return table
    raise CommitConflictError(
        f"snapshot expiry of {report.table} lost {attempts} commit races; retry later"
    )


# -- orphan files ----------------------------------------------------------------------------
def remove_orphan_files(
    table: Table, *, grace_h: float, now: datetime, report: MaintenanceReport
) -> None:
    """Delete unreferenced files under the table location older than ``grace_h`` hours."""
    io = table.io
    if not isinstance(io, PyArrowFileIO):
        report.notes.append(f"orphan removal needs the pyarrow FileIO, not {type(io).__name__}")
        return
    scheme, netloc, root = PyArrowFileIO.parse_location(table.location())
    fs = io.fs_by_scheme(scheme, netloc)
    referenced = {
        PyArrowFileIO.parse_location(uri)[2]
        for uri in snapshot_files(table, table.snapshots()) | metadata_files(table)
    }
    cutoff_ns = int((now - timedelta(hours=grace_h)).timestamp() * 1e9)
    listing = fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True))
    for info in listing:
        if info.type != FileType.File or info.path in referenced:
            continue
        if info.mtime_ns is None or info.mtime_ns >= cutoff_ns:
            continue
        fs.delete_file(info.path)
        report.orphans_deleted += 1
        report.orphan_bytes += int(info.size or 0)


# -- entry points ----------------------------------------------------------------------------
def maintain_table(
    catalog: Catalog,
    identifier: str,
    lake: LakeSettings,
    *,
    now: datetime | None = None,
    compact: bool = True,
    expire: bool = True,
    orphans: bool = True,
) -> MaintenanceReport:
    """Compact, expire and clean one table; safe to run while writers commit."""
    started = time.perf_counter()
    now = now or utc_now()
    report = MaintenanceReport(table=identifier)

    def load() -> Table:
        return catalog.load_table(identifier)

    if identifier in AUDIT_TABLES:
        expire_audit_rows(load, lake.audit_retention_days, now, report)
    if compact:
        compact_table(load, lake.compact_max_files, report, now)
    if expire:
        expire_snapshots(
            load,
            max_age_h=lake.snapshot_max_age_h,
            min_keep=lake.snapshot_min_keep,
            max_count=lake.snapshot_max_count,
            now=now,
            report=report,
        )
    else:
        report.snapshots_left = len(load().snapshots())
    if orphans:
        remove_orphan_files(load(), grace_h=lake.orphan_grace_h, now=now, report=report)
    report.duration_ms = (time.perf_counter() - started) * 1000.0
    return report


def maintain_lake(
    catalog: Catalog,
    lake: LakeSettings,
    tables: Sequence[str] | None = None,
    **options: Any,
) -> list[MaintenanceReport]:
    """Maintain ``tables`` (default: every WikiStream table that exists)."""
    names = list(tables) if tables else [t.identifier for t in ALL_TABLES]
    reports = []
    for name in names:
        try:
            catalog.load_table(name)
        except NoSuchTableError as exc:
            if not tables:
                continue
            known = ", ".join(t.identifier for t in ALL_TABLES)
            raise LakeError(f"no table {name!r} in the catalog; known tables: {known}") from exc
        reports.append(maintain_table(catalog, name, lake, **options))
    return reports
