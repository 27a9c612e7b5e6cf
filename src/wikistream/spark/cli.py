"""``python -m wikistream.spark silver|gold|dq`` — the Spark jobs, fit for spark-submit / EMR.

Settings come from the usual places (``--config`` TOML, ``WIKISTREAM_*`` environment); the
result is one JSON object on stdout. Exit codes: 0 done (gate passed), 1 gate failed,
2 bad arguments or settings, 3 the job could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikistream.errors import ConfigError, WikiStreamError
from wikistream.settings import load_settings
from wikistream.spark.tables import DateRange

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from wikistream.settings import Settings

log = logging.getLogger("wikistream.spark")
EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
Job = Callable[["SparkSession", "Settings", argparse.Namespace], tuple[dict[str, Any], int]]


def parse_day(text: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` → date (``None`` stays ``None``); a clear error naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date; use YYYY-MM-DD (UTC), e.g. 2026-02-26", key=option
        ) from None


def date_range(args: argparse.Namespace) -> DateRange:
    """The ``--from``/``--to`` options as a :class:`DateRange` (validated)."""
    first, last = parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to")
    if first and last and first > last:
        raise ConfigError(
            f"--from {first} is after --to {last}; give an increasing range", key="--from"
        )
    return DateRange(first, last)


def _dq(
    spark: SparkSession, settings: Settings, args: argparse.Namespace
) -> tuple[dict[str, Any], int]:
    from wikistream.spark.gate import run_spark_gate

    result = run_spark_gate(spark, settings, args.layer, date_range(args), write=not args.no_write)
    out = result.to_dict()
    out["summary"] = result.summary
    return out, EXIT_OK if result.passed else EXIT_GATE_FAILED


def _silver(
    spark: SparkSession, settings: Settings, args: argparse.Namespace
) -> tuple[dict[str, Any], int]:
    from wikistream.spark.steps import build_silver

    return build_silver(spark, settings, date_range(args)).as_dict(), EXIT_OK


def _gold(
    spark: SparkSession, settings: Settings, args: argparse.Namespace
) -> tuple[dict[str, Any], int]:
    from wikistream.spark.steps import build_gold

    return build_gold(spark, settings, date_range(args)).as_dict(), EXIT_OK


JOBS: dict[str, Job] = {"silver": _silver, "gold": _gold, "dq": _dq}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the Spark jobs."""
    parser = argparse.ArgumentParser(
        prog="python -m wikistream.spark",
        description="Run a WikiStream layer or DQ gate on Spark over Iceberg.",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file (default: as the CLI)")
    parser.add_argument("--data-dir", type=Path, help="data dir (local catalog and warehouse)")
    sub = parser.add_subparsers(dest="job", required=True)
    for name, text in (
        ("silver", "rebuild silver.cleaned_events from bronze for the date range"),
        ("gold", "rebuild the three gold tables from silver for the date range"),
        ("dq", "run a layer's declared DQ checks and record them in dq_audit"),
    ):
        job = sub.add_parser(name, help=text, description=text)
        job.add_argument("--from", dest="date_from", help="first UTC date, YYYY-MM-DD")
        job.add_argument("--to", dest="date_to", help="last UTC date (included), YYYY-MM-DD")
        if name == "dq":
            job.add_argument("--layer", required=True, choices=("bronze", "silver", "gold"))
            job.add_argument("--no-write", action="store_true", help="do not write dq_audit rows")
    return parser


def main(argv: Sequence[str] | None = None, *, spark: SparkSession | None = None) -> int:
    """Run one job; print its JSON result; return the exit code (see the module docstring)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(args.config, {"data_dir": args.data_dir})
        date_range(args)  # refuse bad dates before starting a JVM
    except WikiStreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    own = spark is None
    try:
        if spark is None:
            from wikistream.spark.session import open_spark

            spark = open_spark(settings)
        out, code = JOBS[args.job](spark, settings, args)
    except WikiStreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILED
    except Exception as exc:  # Spark/py4j errors: report in one line, exit "could not run"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        log.exception("spark job %s failed", args.job)
        print(f"error: the {args.job} job failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if own and spark is not None:
            spark.stop()
    print(json.dumps(out, default=str, indent=2))
    return code
