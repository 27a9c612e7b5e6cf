"""Which data a gate run checks (:class:`SliceSpec`) and what it actually saw (:class:`SliceInfo`).

A slice is a set of UTC dates of a layer's date column (empty: all current data), optionally tied
to an orchestrator batch id (one pipeline cycle). Every audit row of a run stores the
:class:`SliceInfo` of its table as JSON: the requested dates, the dates present in the checked rows,
the row count, the table snapshot read and the batch id. Gold's upstream lookup matches on the dates
actually checked (and the batch id when given), so "covered" means "this gate run saw rows of
that date", never "a run happened recently".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import BooleanExpression

from wikistream.errors import LakeError, QualityError
from wikistream.lake.catalog import ensure_table
from wikistream.lake.predicates import all_of, ge, is_in, lt
from wikistream.lake.schemas import TableDef


def _valid_date(text: str) -> str:
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != 10:
        raise QualityError(f"invalid slice date {text!r}: expected a UTC date as YYYY-MM-DD")
    return text


@dataclass(frozen=True)
class SliceSpec:
    """The data a gate run should check: UTC dates (empty = all data) and an optional batch id."""

    dates: tuple[str, ...] = ()
    batch_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", tuple(sorted({_valid_date(d) for d in self.dates})))

    def describe(self) -> str:
        """Human-readable slice, e.g. ``dates 2026-02-25, 2026-02-26 (batch c-1)``."""
        where = "all data" if not self.dates else "dates " + ", ".join(self.dates)
        return where + (f" (batch {self.batch_id})" if self.batch_id else "")


@dataclass(frozen=True)
class SliceInfo:
    """What one gate run checked in one table; stored as JSON in ``quality_results.slice``."""

    table_name: str
    dates: tuple[str, ...] = ()
    data_dates: tuple[str, ...] = ()
    rows: int = 0
    batch_id: str | None = None
    snapshot_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def covers(self, day: str) -> bool:
        """True when this run checked rows of ``day``."""
        return day in self.data_dates

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the JSON object stored in the audit row)."""
        return {
            "table": self.table_name,
            "dates": list(self.dates),
            "data_dates": list(self.data_dates),
            "rows": self.rows,
            "batch_id": self.batch_id,
            "snapshot_id": self.snapshot_id,
            **self.extra,
        }

    def to_json(self) -> str:
        """Compact JSON for the audit row."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None, table_name: str) -> SliceInfo:
        """Parse an audit row's ``slice`` (missing or malformed → an empty slice of the table)."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        known = {"table", "dates", "data_dates", "rows", "batch_id", "snapshot_id"}
        return cls(
            table_name=str(data.get("table") or table_name),
            dates=tuple(data.get("dates") or ()),
            data_dates=tuple(data.get("data_dates") or ()),
            rows=int(data.get("rows") or 0),
            batch_id=data.get("batch_id"),
            snapshot_id=data.get("snapshot_id"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def data_dates(relation: pa.Table, date_column: str) -> tuple[str, ...]:
    """The distinct non-null dates present in ``relation`` (sorted)."""
    if date_column not in relation.column_names or relation.num_rows == 0:
        return ()
    values = pc.unique(relation.column(date_column).drop_null()).to_pylist()
    return tuple(sorted(str(v) for v in values))


def _row_filter(defn: TableDef, date_column: str, dates: tuple[str, ...]) -> BooleanExpression:
    if not dates:
        return all_of([])
    conditions = [is_in(date_column, dates)]
    if "event_timestamp" in defn.column_names and date_column == "event_date":
        # bronze is partitioned by day(event_timestamp): a range on it prunes files
        end = date.fromordinal(date.fromisoformat(dates[-1]).toordinal() + 1)
        conditions.append(ge("event_timestamp", f"{dates[0]}T00:00:00+00:00"))
        conditions.append(lt("event_timestamp", f"{end.isoformat()}T00:00:00+00:00"))
    return all_of(conditions)


def read_slice(
    catalog: Catalog,
    defn: TableDef,
    date_column: str,
    spec: SliceSpec,
    columns: tuple[str, ...] | None = None,
) -> tuple[pa.Table, int | None]:
    """Scan ``spec``'s rows of ``defn`` (only ``columns``); return them and the snapshot id read."""
    try:
        table = ensure_table(catalog, defn)
        snapshot = table.current_snapshot()
        present = {f.name for f in table.schema().fields}
        wanted = tuple(c for c in (columns or defn.column_names) if c in present)
        if snapshot is None:
            schema = table.schema().as_arrow()
            return schema.empty_table().select(list(wanted)), None
        scan = table.scan(
            row_filter=_row_filter(defn, date_column, spec.dates),
            selected_fields=wanted,
            snapshot_id=snapshot.snapshot_id,
        )
        return scan.to_arrow(), snapshot.snapshot_id
    except (LakeError, QualityError):
        raise
    except Exception as exc:  # pyiceberg/pyarrow raise many unrelated types
        raise QualityError(
            f"cannot read {defn.identifier} for {spec.describe()}: {exc}; "
            "check the [lake] catalog settings and that the table exists"
        ) from exc
