"""The bronze id cache: hashed ids per day, hash matches confirmed against the table."""

from __future__ import annotations

import json

import pyarrow as pa
from pyiceberg.catalog import Catalog

from wikistream.eventlog.base import EventLog
from wikistream.lake.bronze import BronzeWriter
from wikistream.lake.bronze_ids import SeenEventIds
from wikistream.lake.schemas import BRONZE
from wikistream.settings import Settings

from .envelopes import envelope, event_line


class CollidingIds(SeenEventIds):
    """Every id hashes to the same value: every cached day matches every new id."""

    def hash_ids(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        return pa.array([7] * len(ids), pa.uint64())


def _stored_ids(catalog: Catalog) -> list[str]:
    table = catalog.load_table(BRONZE.identifier)
    return list(table.scan(selected_fields=("event_id",)).to_arrow()["event_id"].to_pylist())


def test_hash_collisions_never_drop_an_event(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    first = [event_line() for _ in range(30)]
    event_log.append({"raw-events": [envelope(line) for line in first]})
    writer = BronzeWriter(lake_settings, event_log, catalog)
    writer._seen = CollidingIds()
    writer.drain()
    fresh = [event_line() for _ in range(20)]
    event_log.append({"raw-events": [envelope(line) for line in fresh + first[:5]]})
    result = writer.drain()
    assert (result.rows_written, result.duplicates) == (20, 5)
    ids = _stored_ids(catalog)
    expected = {json.loads(line)["meta"]["id"] for line in first + fresh}
    assert len(ids) == len(set(ids)) == 50
    assert set(ids) == expected
    assert writer._seen.confirm_scans >= 1


def test_new_ids_need_no_table_scan_after_the_day_is_loaded(
    lake_settings: Settings, event_log: EventLog, catalog: Catalog
) -> None:
    writer = BronzeWriter(lake_settings, event_log, catalog)
    for _ in range(3):
        event_log.append({"raw-events": [envelope(event_line()) for _ in range(10)]})
        writer.drain()
    replay = [envelope(event_line()) for _ in range(4)]
    event_log.append({"raw-events": replay})
    writer.drain()
    assert writer._seen.days_loaded == 1
    assert writer._seen.confirm_scans == 0
    event_log.append({"raw-events": replay})  # the same events again: a real duplicate
    result = writer.drain()
    assert (result.rows_written, result.duplicates) == (0, 4)
    assert writer._seen.confirm_scans == 1
    assert len(_stored_ids(catalog)) == 34
