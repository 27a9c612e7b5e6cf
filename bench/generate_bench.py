"""How fast ``wikistream generate`` writes events, and that its memory does not grow with size.

Each size runs in a fresh interpreter so peak RSS is the generator's own. Targets: ≥ 50 000
events/s to a plain JSONL file (1 M events in 20 s), and peak RSS at 1 M events at most 1.5× the
peak at 250 k events (streaming write, bounded page/user pools).
"""

from __future__ import annotations

from pathlib import Path

from bench.harness import CACHE_START, BenchContext, Result, run_in_subprocess

NAME = "generate"
TARGET_EVENTS_PER_S = 50_000.0
MAX_RSS_GROWTH = 1.5


def generate_file(n: int, path: str) -> dict[str, float]:
    """Write ``n`` events (2 vandals, 1 % late, 1 % duplicates) to ``path``; runs in the child."""
    from wikistream.ingest.generate import GenerateOptions, write_events

    options = GenerateOptions(
        events=n, seed=1, start=CACHE_START, vandals=2, late_fraction=0.01,
        duplicate_fraction=0.01,
    )  # fmt: skip
    write_events(options, Path(path))
    return {"bytes": float(Path(path).stat().st_size)}


def run(ctx: BenchContext) -> list[Result]:
    """Measure throughput (plain and gzip) and peak memory at two sizes."""
    n = ctx.size(1_000_000, 20_000)
    small = n // 4
    results: list[Result] = []
    runs = {}
    for size, suffix in ((small, ".jsonl"), (n, ".jsonl"), (n, ".jsonl.gz")):
        path = ctx.scratch(f"generate-{size}{suffix}")
        runs[(size, suffix)] = run_in_subprocess(generate_file, size, str(path))
        path.unlink(missing_ok=True)
    plain, packed, base = runs[(n, ".jsonl")], runs[(n, ".jsonl.gz")], runs[(small, ".jsonl")]
    results.append(Result(NAME, f"events/s ({n:,}, plain)", n / plain.seconds, "events/s",
                          TARGET_EVENTS_PER_S))  # fmt: skip
    results.append(Result(NAME, f"events/CPU-s ({n:,}, plain)", n / plain.cpu_seconds,
                          "events/s", note="less sensitive to a busy machine"))  # fmt: skip
    results.append(Result(NAME, f"events/s ({n:,}, gzip)", n / packed.seconds, "events/s"))
    results.append(Result(NAME, f"wall time ({n:,}, plain)", plain.seconds, "s",
                          n / TARGET_EVENTS_PER_S, higher_is_better=False))  # fmt: skip
    results.append(Result(NAME, "bytes/event (plain)", plain.value["bytes"] / n, "B"))
    results.append(Result(NAME, "bytes/event (gzip)", packed.value["bytes"] / n, "B"))
    results.append(Result(NAME, f"peak RSS ({n:,})", plain.peak_rss_bytes / 2**20, "MiB"))
    growth = plain.peak_rss_bytes / base.peak_rss_bytes
    results.append(Result(NAME, f"peak RSS growth {small:,}→{n:,}", growth, "×", MAX_RSS_GROWTH,
                          higher_is_better=False))  # fmt: skip
    return results
