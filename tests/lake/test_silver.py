"""SilverStep on real Iceberg tables: cleaning rules, dedup, cursor, late data, maintenance."""

from __future__ import annotations

import pytest

from tests.lake import compaction
from tests.lake.bronze_rows import event, repeat, shifted
from tests.lake.conftest import Lake
from wikistream.errors import LakeError
from wikistream.lake import silver as silver_module
from wikistream.lake import transform
from wikistream.lake.changes import Cursor
from wikistream.lake.schemas import BRONZE, SILVER
from wikistream.lake.silver import CURSOR_PREFIX

REGIONS = {
    "asia_pacific": ["zh", "ja", "ko", "vi", "id", "th"],
    "europe": ["de", "fr", "it", "es", "pl", "nl", "ru"],
    "americas": ["en", "pt"],
    "middle_east": ["ar", "fa", "he"],
}


def silver_cursor(lake: Lake) -> Cursor:
    return Cursor.load(lake.table(SILVER).properties, CURSOR_PREFIX)


def test_region_and_language_map_has_18_domains_and_a_fallback(lake: Lake) -> None:
    domains = {f"{lang}.wikipedia.org": region for region, ls in REGIONS.items() for lang in ls}
    assert len(domains) == 18
    extra = {"www.wikidata.org": "other", "commons.wikimedia.org": "other", "xx": "other"}
    rows = [event(i, domain=d) for i, d in enumerate([*domains, *extra])]
    lake.append(rows)
    lake.silver()
    got = {r["domain"]: (r["region"], r["language"]) for r in lake.rows(SILVER)}
    assert got == {d: (region, d[:2]) for d, region in {**domains, **extra}.items()}


def test_size_flags_use_strict_seed_thresholds(lake: Lake) -> None:
    deltas = [-5000, -5001, 50000, 50001, None, 0]
    lake.append(event(i, delta=d) for i, d in enumerate(deltas))
    lake.silver()
    rows = {r["length_delta"]: r for r in lake.rows(SILVER)}
    assert [rows[d]["is_large_deletion"] for d in deltas] == [
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [rows[d]["is_large_addition"] for d in deltas] == [
        False,
        False,
        False,
        True,
        False,
        False,
    ]


def test_invalid_rows_are_dropped_and_counted(lake: Lake) -> None:
    lake.append(
        [
            event(1),
            event(2, domain=None),
            event(3, event_type=None),
            {**event(4), "event_timestamp": None},
        ]
    )
    result = lake.silver()
    assert (result.rows_in, result.rows_out, result.rows_invalid) == (4, 1, 3)
    (row,) = lake.rows(SILVER)
    assert row["event_id"] == "e1"
    assert row["is_valid"] is True
    assert row["schema_version"] == "1.0.0"
    assert row["event_hour"] == 15


def test_dedup_keeps_the_earliest_log_position_in_one_batch(lake: Lake) -> None:
    first = event(7, title="original")
    lake.append(
        [
            shifted(first, offset=30, partition=0),
            shifted(first, offset=9, partition=1),
            shifted(first, offset=12, partition=0),
        ]
    )
    result = lake.silver()
    (row,) = lake.rows(SILVER)
    assert (row["log_partition"], row["log_offset"]) == (0, 12)
    assert result.rows_duplicate == 2


def test_an_earlier_duplicate_arriving_later_replaces_the_stored_row(lake: Lake) -> None:
    original = event(7, title="later position")
    lake.append([shifted(original, offset=50, partition=1)])
    lake.silver()
    lake.append([shifted(original, offset=60, partition=1)])  # later position: ignored
    assert lake.silver().rows_out == 0
    lake.append([shifted(original, offset=3, partition=0)])  # earlier position: wins
    result = lake.silver()
    assert (result.rows_out, result.rows_deleted) == (1, 1)
    (row,) = lake.rows(SILVER)
    assert (row["log_partition"], row["log_offset"]) == (0, 3)


def test_cursor_is_committed_with_the_data_and_a_rerun_is_a_noop(lake: Lake) -> None:
    lake.append(repeat(3, 1))
    first = lake.silver()
    bronze_snapshot = lake.table(BRONZE).current_snapshot()
    assert bronze_snapshot is not None
    assert (
        silver_cursor(lake).snapshot_id == bronze_snapshot.snapshot_id == first.cursor.snapshot_id
    )
    silver_snapshot = lake.table(SILVER).current_snapshot()
    again = lake.silver()
    assert again.noop
    assert again.commits == 0
    assert again.rows_in == 0
    assert lake.table(SILVER).current_snapshot() == silver_snapshot


def test_late_events_of_any_day_reach_silver(lake: Lake) -> None:
    lake.append(repeat(3, 1, at="2026-02-26 23:00"))
    lake.silver()
    lake.append([event(10, at="2026-02-23 01:00"), event(11, at="2026-02-26 22:00")])
    result = lake.silver()
    assert result.dates == ("2026-02-23", "2026-02-26")
    assert {r["event_date"] for r in lake.rows(SILVER)} == {"2026-02-23", "2026-02-26"}
    assert len(lake.rows(SILVER)) == 5


def test_a_crash_between_batches_loses_nothing_and_duplicates_nothing(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.settings.lake.transform_batch_rows = 1000
    lake.append(repeat(1000, 0, at="2026-02-25 10:00"))
    lake.append(repeat(1000, 1000, at="2026-02-26 10:00"))
    calls = {"n": 0}
    real_run_model = transform.run_model

    def failing_second_batch(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise LakeError("simulated crash in the second batch")
        return real_run_model(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transform, "run_model", failing_second_batch)
    with pytest.raises(LakeError, match="simulated"):
        lake.silver()
    assert len(lake.rows(SILVER)) == 1000  # the first batch committed…
    assert silver_cursor(lake) == Cursor()  # …but the cursor did not move
    monkeypatch.setattr(transform, "run_model", real_run_model)
    result = lake.silver()
    assert (result.rows_in, result.rows_out, result.commits) == (2000, 1000, 1)  # re-read: no-op
    assert len({r["event_id"] for r in lake.rows(SILVER)}) == len(lake.rows(SILVER)) == 2000


def test_bronze_compaction_as_overwrite_changes_nothing(lake: Lake) -> None:
    lake.append(repeat(3, 1))
    lake.append(repeat(3, 10))
    lake.silver()
    before = lake.rows(SILVER, keep_processed_at=True)
    compaction.compact_with_overwrite(lake.table(BRONZE))
    result = lake.silver()
    assert result.rows_in == 6
    assert result.rows_out == 0
    assert lake.rows(SILVER, keep_processed_at=True) == before


def test_bronze_compaction_as_replace_is_not_even_read(lake: Lake) -> None:
    lake.append(repeat(3, 1))
    lake.append(repeat(3, 10))
    lake.silver()
    compaction.compact_with_replace(lake.table(BRONZE))
    lake.append([event(20)])
    result = lake.silver()
    assert (result.rows_in, result.rows_out) == (1, 1)
    assert len(lake.rows(SILVER)) == 7


def test_expired_cursor_snapshot_falls_back_to_sequence_numbers(lake: Lake) -> None:
    lake.append(repeat(2, 1))
    lake.silver()
    cursor = silver_cursor(lake)
    lake.append(repeat(2, 10))
    bronze = lake.table(BRONZE)
    assert cursor.snapshot_id is not None
    bronze.maintenance.expire_snapshots().by_id(cursor.snapshot_id).commit()
    result = lake.silver()
    assert (result.rows_in, result.rows_out) == (2, 2)  # only the new file: seq > cursor's
    assert len(lake.rows(SILVER)) == 4


def test_a_bronze_delete_by_maintenance_does_not_resurrect_or_duplicate(lake: Lake) -> None:
    original = event(1)
    lake.append([original, shifted(original, offset=40), event(2)])
    lake.silver()
    # maintenance drops the later duplicate from bronze (copy-on-write rewrite of the file)
    from wikistream.lake.predicates import eq

    lake.table(BRONZE).delete(eq("log_offset", 40))
    result = lake.silver()
    assert result.rows_out == 0
    assert [r["log_offset"] for r in lake.rows(SILVER)] == [1, 2]


def test_missing_sql_model_is_a_clear_error() -> None:
    with pytest.raises(LakeError, match="not found"):
        transform.read_model("no_such_model")
    with pytest.raises(LakeError, match="needs parameter"):
        transform.render_model("silver_cleaned_events", {})


def test_model_parameters_are_portable_literals() -> None:
    params = silver_module.model_params()
    assert all("\\" not in value for value in params.values())
    assert params["control_chars"].count("CHR(") == 33
