"""The ingest benchmark in quick mode: the real CLI into SQLite and Kafka, its JSON report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.quick import run_quick_bench

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.kafka
def test_quick_ingest_bench_reports_rates_memory_and_counts(tmp_path: Path) -> None:
    _, payload = run_quick_bench("ingest", tmp_path, timeout=600)
    assert payload["error"] is None
    metrics = {m["metric"]: m for m in payload["metrics"]}
    for backend in ("sqlite", "kafka"):
        counted = sum(
            metrics[f"{backend}: {name}"]["value"]
            for name in ("appended", "filtered", "dead-lettered")
        )
        assert 19_990 <= counted <= 20_000  # the rest are canaries
        assert metrics[f"{backend}: appended"]["value"] > 4_000
        assert metrics[f"{backend}: events/CPU-s (ingest process)"]["value"] > 1_000
        assert metrics[f"{backend}: events/s (wall)"]["value"] > 500
        assert 20 < metrics[f"{backend}: peak RSS"]["value"] < 500
    sqlite_rate = metrics["sqlite: events/CPU-s (ingest process)"]
    assert sqlite_rate["target"] == 100_000
    assert metrics["sqlite: peak RSS"]["target"] == 200
    assert metrics["read + validate only: events/CPU-s"]["value"] > 5_000
    assert not list((tmp_path / "cache" / "scratch").glob("ingest-*/*"))
