"""``python -m bench [names...] [--quick] [--list]``: run benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.harness import (
    CACHE_DIR,
    RESULTS_DIR,
    BenchContext,
    discover,
    render_table,
    run_benchmark,
    write_results,
)


def main(argv: list[str] | None = None) -> int:
    """Run the named (default: all) benchmarks; exit 1 on an error (or a missed target with
    --strict)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where JSON goes")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="cached inputs")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a full-size run misses a target"
    )
    args = parser.parse_args(argv)
    known = discover()
    if args.list:
        print("\n".join(known))
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    ctx = BenchContext(
        quick=args.quick, cache_dir=args.cache_dir, scratch_dir=args.cache_dir / "scratch"
    )
    failed = False
    everything = []
    for name in args.names or known:
        results, seconds, error = run_benchmark(name, ctx)
        path = write_results(
            name, results, quick=args.quick, seconds=seconds, error=error,
            results_dir=args.results_dir,
        )  # fmt: skip
        everything.extend(results)
        if error:
            print(f"{name}: failed, details in {path}\n{error}", file=sys.stderr)
            failed = True
        # Quick mode measures tiny inputs: targets are shown but only errors fail the run.
        elif args.strict and not args.quick and any(r.ok is False for r in results):
            failed = True
    render_table(everything)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
