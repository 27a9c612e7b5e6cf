"""DuckDB vs PySpark ``local[2]``: the same silver + gold batch over 1 M generated events.

Both engines run the same SQL models (``lake/sql/*.sql``) through the product's own runners
(:func:`wikistream.lake.silver.clean_batch` + :func:`wikistream.lake.gold.compute_gold` on
DuckDB, :mod:`wikistream.spark.models` on Spark) from the same bronze Parquet file, each writing
its silver and three gold tables to Parquet. Each engine runs as its own command, so its wall
time includes what a user waits for (interpreter, JVM start) and its peak RSS is that of the
whole process tree (Spark: the Python driver and its JVM). DuckDB gets 2 threads, like Spark's
``local[2]``. Iceberg commits are left out: they are catalog work, not engine work.

Targets (ours): DuckDB ≥ 20× faster and ≥ 5× less memory. Run alone with
``python -m bench engines`` (writes ``bench/results/engines.json``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import CACHE_START, REPO, BenchContext, Result, run_command

NAME = "engines"
TARGET_SPEEDUP = 20.0
TARGET_MEMORY_RATIO = 5.0
OUTPUTS = ("silver", "hourly_stats", "risk_scores", "daily_analytics_summary")


def bronze_parquet(ctx: BenchContext, n: int) -> Path:
    """The bronze rows of ``n`` cached generated events, as Parquet (built once)."""
    import pyarrow.parquet as pq

    from bench.bronze_input import bronze_table, read_lines

    events = ctx.cached_events(n, seed=1, vandals=2, late_fraction=0.01, duplicate_fraction=0.01)
    path = ctx.cache_dir / f"bronze-{events.name.split('.')[0]}.parquet"
    if not path.exists():
        partial = path.with_suffix(".partial")
        pq.write_table(bronze_table(read_lines(events), CACHE_START), partial)
        partial.rename(path)
    return path


def run_duckdb(bronze: Path, out: Path) -> dict[str, Any]:
    """Silver then gold on DuckDB (2 threads); runs in its own process."""
    import pyarrow.parquet as pq

    from wikistream.lake.config import LakeSettings
    from wikistream.lake.gold import compute_gold
    from wikistream.lake.schemas import SILVER
    from wikistream.lake.silver import BRONZE_COLUMNS, EXISTING_COLUMNS, clean_batch
    from wikistream.lake.transform import connect
    from wikistream.settings import Settings

    started = time.perf_counter()
    settings = Settings(data_dir=out, lake=LakeSettings(transform_threads=2))
    rows = pq.read_table(bronze, columns=list(BRONZE_COLUMNS))
    with connect(settings) as con:
        empty = SILVER.schema().select(*EXISTING_COLUMNS).as_arrow().empty_table()
        silver, _ = clean_batch(con, rows, empty)
        gold = compute_gold(con, silver)
    tables = {"silver": silver, **{k.split(".")[1]: v for k, v in gold.items()}}
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet")
    return {
        "seconds": time.perf_counter() - started,
        "rows": {name: table.num_rows for name, table in tables.items()},
    }


def run_duckdb_files(bronze: Path, out: Path) -> dict[str, Any]:
    """The same models on DuckDB, Parquet file to Parquet file (no Arrow tables in Python).

    Not the product's runner: it shows how much of the runner's memory is the Arrow
    materialisation of inputs and results rather than DuckDB's own work.
    """
    from wikistream.lake.config import LakeSettings
    from wikistream.lake.schemas import SCHEMA_VERSION
    from wikistream.lake.silver import BRONZE_COLUMNS, EXISTING_COLUMNS, model_params
    from wikistream.lake.transform import connect, render_model, sql_string
    from wikistream.settings import Settings

    started = time.perf_counter()
    settings = Settings(data_dir=out, lake=LakeSettings(transform_threads=2))
    columns = ", ".join(f'"{c}"' for c in BRONZE_COLUMNS if c != "user")
    with connect(settings) as con:
        con.execute(
            f'CREATE VIEW bronze_batch AS SELECT {columns}, "user" AS user_raw, '
            f"row_number() OVER () AS batch_row FROM read_parquet('{bronze}')"
        )
        existing = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in EXISTING_COLUMNS)
        con.execute(f"CREATE VIEW silver_existing AS SELECT {existing} WHERE FALSE")
        silver_sql = render_model("silver_cleaned_events", model_params())
        con.execute(f"COPY ({silver_sql}) TO '{out / 'silver.parquet'}' (FORMAT parquet)")
        con.execute(f"CREATE VIEW silver_day AS SELECT * FROM read_parquet('{out}/silver.parquet')")
        params = {"schema_version": sql_string(SCHEMA_VERSION)}
        for name, model in (
            ("hourly_stats", "gold_hourly_stats"),
            ("risk_scores", "gold_risk_scores"),
        ):
            sql = render_model(model, params)
            con.execute(f"COPY ({sql}) TO '{out / name}.parquet' (FORMAT parquet)")
        con.execute(
            f"CREATE VIEW risk_day AS SELECT * FROM read_parquet('{out}/risk_scores.parquet')"
        )
        daily = render_model("gold_daily_summary", params)
        con.execute(f"COPY ({daily}) TO '{out}/daily_analytics_summary.parquet' (FORMAT parquet)")
        counts = {
            name: int(
                con.execute(
                    f"SELECT COUNT(*) FROM read_parquet('{out}/{name}.parquet')"
                ).fetchall()[0][0]
            )
            for name in OUTPUTS
        }
    return {"seconds": time.perf_counter() - started, "rows": counts}


def run_spark(bronze: Path, out: Path) -> dict[str, Any]:
    """Silver then gold on PySpark local[2]; runs in its own process (with its JVM)."""
    from wikistream.lake.gold import SILVER_COLUMNS
    from wikistream.lake.silver import BRONZE_COLUMNS
    from wikistream.settings import Settings
    from wikistream.spark.config import SparkSettings
    from wikistream.spark.models import gold_frames, silver_frame
    from wikistream.spark.session import open_spark

    began = time.perf_counter()
    settings = Settings(data_dir=out / "lake", spark=SparkSettings(shuffle_partitions=4))
    spark = open_spark(settings)
    started = time.perf_counter()
    try:
        rows = spark.read.parquet(str(bronze)).select(*BRONZE_COLUMNS).cache()
        silver = silver_frame(spark, rows)
        silver.write.parquet(str(out / "silver.parquet"))
        silver_day = spark.read.parquet(str(out / "silver.parquet")).select(*SILVER_COLUMNS)
        counts = {"silver": silver_day.count()}
        for identifier, frame in gold_frames(spark, silver_day.cache()).items():
            name = identifier.split(".")[1]
            frame.write.parquet(str(out / f"{name}.parquet"))
            counts[name] = spark.read.parquet(str(out / f"{name}.parquet")).count()
    finally:
        spark.stop()
    return {
        "seconds": time.perf_counter() - started,
        "startup_seconds": started - began,
        "rows": counts,
    }


ENGINES = {"duckdb": run_duckdb, "duckdb-files": run_duckdb_files, "spark": run_spark}


def _measure(engine: str, bronze: Path) -> tuple[dict[str, Any], float, int]:
    """Run one engine as a command; return its report, wall seconds and tree peak RSS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = f"{REPO / 'src'}:{REPO}"
    with tempfile.TemporaryDirectory(prefix=f"engines-{engine}-") as tmp:
        run = run_command(
            [sys.executable, "-m", "bench.engines_bench", engine, str(bronze), tmp],
            env=env,
            cwd=REPO,
            timeout=3600,
        )
    if run.returncode != 0:
        raise RuntimeError(f"{engine} run failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    report = json.loads(run.stdout.strip().splitlines()[-1])
    return report, run.seconds, run.peak_rss_bytes


def run(ctx: BenchContext) -> list[Result]:
    """Both engines on the same bronze file; their wall time, peak RSS and the ratios."""
    n = ctx.size(1_000_000, 20_000)
    bronze = bronze_parquet(ctx, n)
    measured = {engine: _measure(engine, bronze) for engine in ENGINES}
    (duck, duck_s, duck_rss), (spark, spark_s, spark_rss) = measured["duckdb"], measured["spark"]
    files, files_s, files_rss = measured["duckdb-files"]
    same = duck["rows"] == spark["rows"] == files["rows"]
    counts = f"duckdb {duck['rows']}, files {files['rows']}, spark {spark['rows']}"
    note = "" if same else f"row counts differ: {counts}"
    mib = 2**20
    return [
        Result(NAME, f"duckdb wall ({n:,} events)", duck_s, "s", higher_is_better=False),
        Result(
            NAME,
            f"spark local[2] wall ({n:,} events)",
            spark_s,
            "s",
            higher_is_better=False,
            note=f"JVM+session start {spark['startup_seconds']:.1f} s",
        ),
        Result(NAME, "duckdb speed-up (wall)", spark_s / duck_s, "×", TARGET_SPEEDUP, note=note),
        Result(
            NAME,
            "duckdb speed-up (compute only)",
            spark["seconds"] / duck["seconds"],
            "×",
            note="excluding interpreter and JVM start",
        ),
        Result(
            NAME, "duckdb peak RSS (process tree)", duck_rss / mib, "MiB", higher_is_better=False
        ),
        Result(
            NAME, "spark peak RSS (python + JVM)", spark_rss / mib, "MiB", higher_is_better=False
        ),
        Result(NAME, "duckdb memory advantage", spark_rss / duck_rss, "×", TARGET_MEMORY_RATIO),
        Result(
            NAME,
            "duckdb file-to-file wall",
            files_s,
            "s",
            higher_is_better=False,
            note="same models, Parquet in/out, no Arrow in Python (not the product runner)",
        ),
        Result(
            NAME, "duckdb file-to-file peak RSS", files_rss / mib, "MiB", higher_is_better=False
        ),
        Result(NAME, "duckdb file-to-file memory advantage", spark_rss / files_rss, "×"),
        Result(NAME, "silver rows", float(duck["rows"]["silver"]), "rows", note=note),
    ]


def main(argv: list[str]) -> int:
    """``python -m bench.engines_bench duckdb|spark BRONZE.parquet OUT_DIR``: one engine run."""
    engine, bronze, out = argv
    report = ENGINES[engine](Path(bronze), Path(out))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
