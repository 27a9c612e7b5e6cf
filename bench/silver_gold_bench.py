"""Silver and gold steps on 1 M bronze events: a cold catch-up, then a 3,000-event increment.

Targets (one core): bronze → silver → all gold tables for 1 M events in ≤ 15 s with peak RSS
≤ 400 MB; an increment of 3,000 new events (some up to 3 days late) on top of that in ≤ 1 s.
Each measured step runs in a fresh interpreter (peak RSS is the step's own, imports included).
The bronze rows are built synthetically with vectorized pyarrow (not through the bronze writer).

Run with the harness (``python -m bench silver_gold [--quick]``) or alone
(``python bench/silver_gold_bench.py [--quick]``, writes ``bench/results/silver_gold.json``).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import harness

REPO = Path(__file__).resolve().parents[1]
for entry in (REPO, REPO / "src"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

NAME = "silver_gold"
START = datetime(2026, 2, 23, tzinfo=UTC)
DAYS = 4
TARGET_COLD_S = 15.0
TARGET_COLD_RSS_MB = 400.0
TARGET_INCREMENT_S = 1.0
DOMAINS = [
    *(
        f"{c}.wikipedia.org"
        for c in (
            "en",
            "de",
            "ja",
            "fr",
            "zh",
            "es",
            "ru",
            "ko",
            "vi",
            "id",
            "th",
            "it",
            "pl",
            "nl",
            "pt",
            "ar",
            "fa",
            "he",
        )
    ),
    "www.wikidata.org",
    "commons.wikimedia.org",
]


def synthetic_bronze(n: int, *, first_offset: int, seed: int, recent: bool = False,
                     late: bool = False) -> Any:  # fmt: skip
    """``n`` bronze rows: Zipf-ish users (IPs, temporary accounts), 20 wikis.

    Events spread over 4 days; ``recent``: over the last hour of the last day instead, of which
    10 % are 1–3 days late with ``late``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from wikistream.lake.schemas import BRONZE

    def uniform(salt: int) -> Any:
        return pc.random(n, initializer=seed * 1000 + salt)

    def to_int(values: Any) -> Any:
        return pc.cast(pc.floor(values), pa.int64())

    def pick(values: list[Any], salt: int, skew: float = 1.0) -> Any:
        index = to_int(pc.multiply(pc.power(uniform(salt), skew), len(values)))
        return pc.take(pa.array(values), index)

    users = [f"User{i}" for i in range(40_000)]
    users += [f"198.51.{i // 256}.{i % 256}" for i in range(5_000)]
    users += [f"2001:DB8:0:0:0:0:{i // 65536:X}:{i % 65536:X}" for i in range(2_000)]
    users += [f"~2026-{i:05d}-{i % 97}" for i in range(3_000)]
    offsets = pa.array(range(first_offset, first_offset + n), pa.int64())
    span_us = 3_600_000_000 if recent else DAYS * 86_400_000_000
    base_us = int((START.timestamp() + (DAYS * 86_400 - 3_600 if recent else 0)) * 1_000_000)
    micros = pc.add(to_int(pc.multiply(uniform(1), span_us)), base_us)
    if late:  # 10 % of the increment arrives 1-3 days late
        lateness = pc.cast(
            pc.multiply(pc.floor(pc.multiply(uniform(9), 3)), 86_400_000_000), pa.int64()
        )
        micros = pc.if_else(pc.less(uniform(10), 0.1), pc.subtract(micros, lateness), micros)
    timestamps = pc.cast(micros, pa.timestamp("us", "UTC"))
    delta = pc.cast(
        pc.subtract(to_int(pc.multiply(pc.power(uniform(2), 4), 12_000)), 3_000), pa.int32()
    )
    columns: dict[str, Any] = {
        "event_id": pc.binary_join_element_wise("bench-", pc.cast(offsets, pa.string()), ""),
        "rc_id": offsets,
        "event_type": pick(["edit"] * 6 + ["categorize"] * 2 + ["new", "log"], 3),
        "namespace": pa.array([0] * n, pa.int32()),
        "domain": pick(DOMAINS, 4, skew=2.0),
        "title": pc.binary_join_element_wise(
            "Page ",
            pc.cast(to_int(pc.multiply(uniform(5), 200_000)), pa.string()),
            "",
        ),
        "user": pick(users, 6, skew=3.0),
        "is_bot": pc.less(uniform(7), 0.1),
        "length_old": pa.array([1000] * n, pa.int32()),
        "length_new": pc.add(delta, 1000),
        "length_delta": delta,
        "event_timestamp": timestamps,
        "producer_ingested_at": timestamps,
        "bronze_processed_at": timestamps,
        "log_partition": pa.array([0] * n, pa.int32()),
        "log_offset": offsets,
        "schema_version": pa.array(["1.0.0"] * n),
    }
    schema = BRONZE.schema().as_arrow()
    arrays = [
        columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def load_bronze(
    data_dir: str, n: int, commits: int, first_offset: int, seed: int, recent: bool, late: bool
) -> int:
    """Append ``n`` synthetic rows to bronze in ``commits`` commits (setup, not measured)."""
    from wikistream.lake.catalog import ensure_lake, open_catalog
    from wikistream.lake.schemas import BRONZE
    from wikistream.settings import Settings

    catalog = open_catalog(Settings(data_dir=Path(data_dir)))
    bronze = ensure_lake(catalog)[BRONZE.identifier]
    rows = synthetic_bronze(n, first_offset=first_offset, seed=seed, recent=recent, late=late)
    step = -(-n // commits)
    for start in range(0, n, step):
        bronze.append(rows.slice(start, step))
    return rows.num_rows


def run_steps(data_dir: str) -> dict[str, Any]:
    """SilverStep then GoldStep; returns their results (runs in the measured child)."""
    import time

    from wikistream.lake.refresh import run_silver_gold
    from wikistream.settings import Settings

    settings = Settings(data_dir=Path(data_dir))
    began = time.process_time()
    silver, gold = run_silver_gold(settings)
    cpu = time.process_time() - began
    return {"silver": silver.as_dict(), "gold": gold.as_dict(), "steps_cpu_s": cpu}


def run(ctx: Any) -> list[Any]:
    """Cold catch-up of ``n`` events, then two increments of 3,000 (harness entry point)."""
    result = harness.Result
    n = ctx.size(1_000_000, 50_000)
    data_dir = ctx.scratch("silver-gold-lake")
    harness.run_in_subprocess(load_bronze, str(data_dir), n, 10, 0, 1, False, False)
    cold = harness.run_in_subprocess(run_steps, str(data_dir))
    assert cold.value["silver"]["rows_out"] > 0.99 * n, cold.value
    out = [
        result(NAME, f"cold wall time ({n:,} events)", cold.seconds, "s", TARGET_COLD_S, False),
        result(NAME, f"cold CPU time ({n:,} events)", cold.cpu_seconds, "s", TARGET_COLD_S, False,
               note="one core: CPU time is what the target means on a busy machine"),
        result(NAME, f"cold peak RSS ({n:,} events)", cold.peak_rss_bytes / 2**20, "MiB",
               TARGET_COLD_RSS_MB, False),
    ]  # fmt: skip
    for offset, late, label in ((n, False, "current day"), (n + 3_000, True, "10% ≤3 days late")):
        harness.run_in_subprocess(load_bronze, str(data_dir), 3_000, 1, offset, 2, True, late)
        warm = harness.run_in_subprocess(run_steps, str(data_dir))
        steps = warm.value["silver"]["duration_s"] + warm.value["gold"]["duration_s"]
        assert warm.value["silver"]["rows_in"] == 3_000, warm.value
        gold = warm.value["gold"]
        out += [
            result(NAME, f"increment step time (3,000, {label})", steps, "s", TARGET_INCREMENT_S,
                   False, note="SilverStep + GoldStep durations, imports excluded"),
            result(NAME, f"increment step CPU time (3,000, {label})", warm.value["steps_cpu_s"],
                   "s", TARGET_INCREMENT_S, False,
                   note="one core: SilverStep + GoldStep CPU seconds, imports excluded"),
            result(NAME, f"increment CPU time (3,000, {label})", warm.cpu_seconds, "s",
                   note="whole child incl. imports and catalog open"),
            result(NAME, f"increment silver rows read by gold ({label})", gold["rows_in"], "rows",
                   note=f"dates {len(gold['dates'])}, hourly groups "
                        f"{gold['groups'].get('gold.hourly_stats', 0)}, risk users "
                        f"{gold['groups'].get('gold.risk_scores', 0)}"),
        ]  # fmt: skip
    return out


def main(argv: list[str]) -> int:
    """Run alone: print the metrics and write ``bench/results/silver_gold.json``."""
    ctx = harness.BenchContext(quick="--quick" in argv)
    results = run(ctx)
    payload = {
        "benchmark": NAME,
        "timestamp": datetime.now(UTC).isoformat(),
        "quick": ctx.quick,
        "metrics": [r.as_json() for r in results],
    }
    out = REPO / "bench" / "results" / f"{NAME}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    for r in results:
        print(f"{r.metric:45} {r.value:12.3f} {r.unit:8} target {r.target} ok {r.ok}")
    print(f"written: {out}")
    return 0 if all(r.ok is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
