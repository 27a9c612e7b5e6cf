"""Issue 3, acceptance 1: the real sample files and a generated file, replayed through
`wikistream run --once`, land in bronze with exactly one row per valid target event.

The real files are three eras of the stream: 2026 (all wikis), an enwiki-only 2023 capture and a
2018 Wikidata capture in the legacy format (no target wiki: every event is filtered, none is
dead-lettered). They are replayed one after another into one data dir, as an operator would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.runs import expected_ids, generate, lake_settings, read_table, wikistream
from wikistream.lake.schemas import BRONZE, HOURLY_STATS, SILVER

REAL_FILES = (
    "recentchange-2026-02-26.jsonl",
    "recentchange-enwiki-2023-07-29.jsonl",
    "wikidata-recentchange-2018-03-07.jsonl",
)


def _events(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


@pytest.mark.slow
def test_real_files_and_a_generated_file_land_once(shared_data: Path, tmp_path: Path) -> None:
    generated = tmp_path / "generated.jsonl"
    manifest = generate(generated, 3000, seed=5, vandals=1)
    # a second generated file whose upstream offsets lie below the first one's: a separate
    # delivery, so its events are new, not redeliveries of the first file
    other = tmp_path / "other.jsonl"
    other_manifest = generate(other, 1000, seed=2)
    assert other_manifest["offsets"]["last"] < manifest["offsets"]["first"]
    files = [shared_data / name for name in REAL_FILES] + [generated, other]
    data_dir = tmp_path / "data"
    for path in files:
        done = wikistream(
            data_dir, "run", "--replay", str(path), "--speed", "max", "--once", "-o", "json"
        )
        summary = json.loads(done.stdout)
        run = summary["ingest"]["run"]
        assert run["received"] == _events(path), path.name
        assert run["appended"] == len(expected_ids([path])), path.name
        assert run["dead_lettered"] == 0, path.name
        assert not summary["blocked"], (path.name, summary["gates"])
    expected = expected_ids(files)
    by_file = {p.name: len(expected_ids([p])) for p in files}
    assert by_file["recentchange-enwiki-2023-07-29.jsonl"] == 100
    assert by_file["wikidata-recentchange-2018-03-07.jsonl"] == 0
    assert by_file["generated.jsonl"] == manifest["target_events"]
    assert by_file["other.jsonl"] == other_manifest["target_events"] > 0

    settings = lake_settings(data_dir)
    bronze = read_table(settings, BRONZE)
    assert sorted(bronze.column("event_id").to_pylist()) == sorted(expected)
    raw = {r["event_id"]: json.loads(r["raw_event"]) for r in bronze.to_pylist()}
    # each row keeps its event verbatim: same wiki, same revision as the file's line
    for path in files[:2]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                if event["meta"]["id"] in raw:
                    assert raw[event["meta"]["id"]] == event
    silver = read_table(settings, SILVER)
    assert sorted(silver.column("event_id").to_pylist()) == sorted(expected)
    hourly = read_table(settings, HOURLY_STATS)
    assert sum(hourly.column("total_events").to_pylist()) == len(expected)

    # a second replay of the same file adds nothing (resume after its last line)
    again = wikistream(
        data_dir, "run", "--replay", str(files[0]), "--speed", "max", "--once", "-o", "json"
    )
    assert json.loads(again.stdout)["ingest"]["run"]["appended"] == 0
    assert read_table(settings, BRONZE).num_rows == len(expected)
