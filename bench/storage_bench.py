"""Catalog and warehouse latency per backend: service start, open, ensure_lake, append, scan.

Backends: SqlCatalog+SQLite on a local warehouse (default), SqlCatalog+PostgreSQL on an S3
warehouse (SeaweedFS), Iceberg REST (SeaweedFS, SigV4) on its table bucket. All on loopback.

Run: PYTHONPATH=src:. python bench/storage_bench.py   (writes bench/results/storage.json)
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.contract.catalog_backends import rows_for, wipe_catalog
from tests.services.postgres import running_postgres
from tests.services.seaweed import running_seaweed

from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.schemas import SILVER
from wikistream.settings import load_settings

RESULTS = Path(__file__).parent / "results" / "storage.json"
ROWS = 10_000
T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Result and wall milliseconds of one call."""
    start = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - start) * 1000


def measure(lake: dict[str, Any], data_dir: Path) -> dict[str, float]:
    """Open, create the lake, append ROWS silver rows in one commit, scan them back."""
    settings = load_settings(overrides={"data_dir": data_dir, "lake": lake})
    catalog, open_ms = timed(lambda: open_catalog(settings))
    tables, ensure_ms = timed(lambda: ensure_lake(catalog))
    table = tables[SILVER.identifier]
    rows = rows_for(SILVER, ROWS, event_date="2026-05-01")
    _, append_ms = timed(lambda: table.append(rows))
    scanned, scan_ms = timed(lambda: catalog.load_table(SILVER.identifier).scan().to_arrow())
    assert scanned.num_rows == ROWS
    _, reopen_ms = timed(lambda: open_catalog(settings).load_table(SILVER.identifier))
    wipe_catalog(catalog)
    return {
        "open_ms": open_ms,
        "ensure_lake_7_tables_ms": ensure_ms,
        f"append_{ROWS}_rows_ms": append_ms,
        f"scan_{ROWS}_rows_ms": scan_ms,
        "reopen_and_load_table_ms": reopen_ms,
    }


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="wikistream-storage-bench-") as tmp:
        root = Path(tmp)
        results["sqlite-local"] = measure({}, root / "sqlite")
        start = time.perf_counter()
        with running_seaweed(root / "seaweed") as weed:
            seaweed_start_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            with running_postgres() as pg:
                pg_start_ms = (time.perf_counter() - start) * 1000
                lake = {
                    "catalog": {"type": "sql", "uri": pg.create_database("bench")},
                    "warehouse": f"s3://{weed.data_bucket}/bench",
                    "s3": {
                        "endpoint": weed.s3_endpoint,
                        "access_key_id": weed.access_key,
                        "secret_access_key": weed.secret_key,
                    },
                }
                results["postgres-s3"] = measure(lake, root / "pg")
                results["postgres-s3"]["service_start_ms"] = pg_start_ms
            rest = {"catalog": weed.rest_catalog_properties()}
            results["rest-s3"] = measure(rest, root / "rest")
            results["rest-s3"]["service_start_ms"] = seaweed_start_ms
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    metrics = sorted({m for r in results.values() for m in r})
    width = max(map(len, metrics))
    print(f"{'':<{width}}  " + "  ".join(f"{b:>13}" for b in results))
    for metric in metrics:
        cells = (results[b].get(metric) for b in results)
        print(
            f"{metric:<{width}}  "
            + "  ".join(f"{'-' if c is None else f'{c:,.0f}':>13}" for c in cells)
        )


if __name__ == "__main__":
    main()
