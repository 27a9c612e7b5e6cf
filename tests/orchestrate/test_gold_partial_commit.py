"""A crash between gold's table commits must not leave the other gold tables behind for good.

Gold commits hourly_stats, risk_scores and daily_analytics_summary one transaction each, every one
with its own cursor. Found by the SIGKILL test: a run killed after hourly_stats' commit left the
chain judging gold by hourly_stats' cursor alone, so the other two tables never got that slice.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from wikistream.ingest.generate import GenerateOptions, write_events
from wikistream.lake import gold as gold_module
from wikistream.lake.catalog import open_catalog
from wikistream.lake.gold import GOLD_TABLES, GoldStep
from wikistream.lake.schemas import HOURLY_STATS
from wikistream.orchestrate.pipeline import RunOptions, run_once
from wikistream.orchestrate.refine import Refiner
from wikistream.settings import Settings


class _KilledError(Exception):
    """Stands for the SIGKILL that lands between two of gold's commits."""


def _rows(settings: Settings, identifier: str) -> pa.Table:
    table = open_catalog(settings).load_table(identifier).scan().to_arrow()
    drop = [c for c in ("gold_processed_at",) if c in table.column_names]
    keys = [c for c in table.column_names if c not in drop]
    return table.drop_columns(drop).sort_by([(k, "ascending") for k in keys[:3]])


def test_gold_tables_left_behind_by_a_crash_catch_up(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = tmp_path / "events.jsonl.gz"
    write_events(GenerateOptions(events=3000, seed=5), replay)
    run_once(
        settings,
        RunOptions(replay=replay, speed="max", once=True, stages=("ingest", "bronze", "silver")),
    )

    real_commit = gold_module.rewrite_files
    commits: list[str] = []

    def commit_then_die(table, **kwargs):  # type: ignore[no-untyped-def]
        if commits:
            raise _KilledError
        commits.append(table.name()[-1])
        return real_commit(table, **kwargs)

    monkeypatch.setattr(gold_module, "rewrite_files", commit_then_die)
    with pytest.raises(_KilledError):
        GoldStep(settings, open_catalog(settings)).run()
    monkeypatch.setattr(gold_module, "rewrite_files", real_commit)
    assert commits == [HOURLY_STATS.identifier.split(".")[1]]
    catalog = open_catalog(settings)
    behind = [d for d in GOLD_TABLES if d is not HOURLY_STATS]
    assert all(catalog.load_table(d.identifier).scan().to_arrow().num_rows == 0 for d in behind)

    outcome = Refiner(settings, catalog, gates=True).run_once()

    assert outcome.gold is not None
    assert not outcome.gold.noop
    assert not outcome.blocked
    caught_up = {d.identifier: _rows(settings, d.identifier) for d in GOLD_TABLES}
    assert all(t.num_rows > 0 for t in caught_up.values())
    # the same as gold computed in one go on a fresh copy of silver's state
    fresh = load_fresh_gold(settings, tmp_path / "fresh", replay)
    for identifier, rows in caught_up.items():
        assert rows.equals(fresh[identifier]), identifier


def load_fresh_gold(settings: Settings, data_dir: Path, replay: Path) -> dict[str, pa.Table]:
    """Gold of the same replay computed without any crash, in another data dir."""
    from wikistream.settings import load_settings

    other = load_settings(overrides={"data_dir": data_dir})
    run_once(
        other,
        RunOptions(
            replay=replay, speed="max", once=True, stages=("ingest", "bronze", "silver", "gold")
        ),
    )
    return {d.identifier: _rows(other, d.identifier) for d in GOLD_TABLES}
