"""The generator's calibration constants agree with the real sample files they were taken from."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

from wikistream.ingest import calibration as cal
from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.synth.wikis import build_wikis


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_type_mix_bot_share_and_topic_come_from_the_2026_slice(shared_data: Path) -> None:
    rows = _jsonl(shared_data / "recentchange-2026-02-26.jsonl")
    n = len(rows)
    types = Counter(r["type"] for r in rows)
    assert {t: types[t] / n for t in cal.TYPE_MIX} == cal.TYPE_MIX
    assert sum(r["bot"] for r in rows) / n == cal.BOT_SHARE
    assert {r["meta"]["topic"] for r in rows} == {cal.TOPIC}
    assert rows[0]["meta"]["offset"] == cal.FIRST_OFFSET
    assert {r["$schema"] for r in rows} == {cal.SCHEMA_URI}


def test_target_share_is_the_2026_slice_without_its_one_user_burst(shared_data: Path) -> None:
    rows = _jsonl(shared_data / "recentchange-2026-02-26.jsonl")
    burst_user = Counter(r["user"] for r in rows).most_common(1)[0][0]
    rest = [r for r in rows if r["user"] != burst_user]
    share = sum(r["meta"]["domain"] in SEED_TARGET_DOMAINS for r in rest) / len(rest)
    assert round(share, 2) == cal.TARGET_SHARE


def test_wiki_weights_sum_to_one_with_the_calibrated_target_share() -> None:
    wikis = build_wikis()
    assert abs(sum(w.weight for w in wikis) - 1.0) < 1e-9
    assert abs(sum(w.weight for w in wikis if w.is_target) - cal.TARGET_SHARE) < 1e-9
    assert {w.domain for w in wikis if w.is_target} == set(SEED_TARGET_DOMAINS)
    assert len({w.domain for w in wikis}) == len(wikis)


def test_edit_delta_quantiles_are_the_wikiticker_ones(shared_data: Path) -> None:
    with gzip.open(shared_data / "wikiticker-2015-09-12-sampled.json.gz", "rt") as handle:
        deltas = sorted(
            row["delta"] for row in map(json.loads, handle) if not row["isNew"]
        )  # fmt: skip
    n = len(deltas)
    for q, value in cal.EDIT_DELTA_QUANTILES:
        if 0.0 < q < 1.0:
            assert deltas[int(q * n)] == value, q
    assert deltas[0] == cal.EDIT_DELTA_QUANTILES[0][1]  # the file censors deletions at -500
    assert deltas[-1] == cal.EDIT_DELTA_QUANTILES[-1][1]


def test_the_deletion_tail_matches_the_2023_enwiki_edits(shared_data: Path) -> None:
    rows = _jsonl(shared_data / "recentchange-enwiki-2023-07-29.jsonl")
    deltas = [
        r["length"]["new"] - r["length"]["old"]
        for r in rows
        if r.get("length") and r["length"].get("old") is not None
    ]
    share_below_500 = sum(d < -500 for d in deltas) / len(deltas)
    assert abs(share_below_500 - cal.DELETION_TAIL_SHARE) < 0.005
