"""What the end-to-end tests share: the `wikistream` CLI as a subprocess, inputs and table reads.

Expected results are computed here from the input files with plain ``json`` (not with the code
under test): a *valid target event* is a JSON line whose ``meta.domain`` is a target wiki (not the
``canary`` heartbeat); the test files hold only schema-valid events, so that is exactly the set
bronze must hold once.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.generate import GenerateOptions, write_events
from wikistream.lake.catalog import open_catalog
from wikistream.lake.schemas import TableDef
from wikistream.settings import Settings, load_settings

SRC = Path(__file__).resolve().parents[2] / "src"
# Ports 0: tests run beside other `wikistream run`s (and the developer's) on one machine.
FREE_PORTS = {"WIKISTREAM_OBSERVE__METRICS_PORT": "0", "WIKISTREAM_SERVE__PORT": "0"}


def cli_env(**settings: str) -> dict[str, str]:
    """The environment of a CLI subprocess: our ``src`` first, no stray WIKISTREAM_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISTREAM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    env.update(FREE_PORTS)
    env.update(settings)
    return env


def cli_command(data_dir: Path, *args: str) -> list[str]:
    """``python -m wikistream --data-dir DIR ARGS...``."""
    return [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args]


def wikistream(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion; fail the test with its stderr when it exits non-zero."""
    done = subprocess.run(
        cli_command(data_dir, *args),
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (
        f"wikistream {' '.join(args)} exited {done.returncode}:\n" + (done.stderr[-4000:])
    )
    return done


def generate(
    out: Path,
    events: int,
    *,
    seed: int,
    vandals: int = 0,
    medium: int | None = None,
    rate: float = 30.0,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Write a generated replay file with its manifest; return the manifest."""
    options = GenerateOptions(
        events=events, seed=seed, vandals=vandals, medium=medium, rate=rate, start=start
    )
    return write_events(options, out, manifest=True)


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def expected_ids(paths: Iterable[Path], targets: Iterable[str] = SEED_TARGET_DOMAINS) -> list[str]:
    """``meta.id`` of every target-wiki event of the files, first occurrence only, in order."""
    wanted = set(targets)
    seen: set[str] = set()
    ids: list[str] = []
    for path in paths:
        for line in _lines(path):
            meta = json.loads(line).get("meta") or {}
            event_id = meta.get("id")
            if meta.get("domain") in wanted and event_id and event_id not in seen:
                seen.add(event_id)
                ids.append(event_id)
    return ids


def lake_settings(data_dir: Path) -> Settings:
    """Settings for reading the lake a CLI run wrote under ``data_dir``."""
    return load_settings(overrides={"data_dir": data_dir})


def read_table(settings: Settings, table: TableDef) -> pa.Table:
    """Every current row of ``table`` through pyiceberg (a fresh catalog: no cached metadata)."""
    rows: pa.Table = open_catalog(settings).load_table(table.identifier).scan().to_arrow()
    return rows


def without(rows: pa.Table, *columns: str) -> pa.Table:
    """``rows`` minus processing-time columns, sorted on every remaining column (comparable)."""
    kept = rows.drop_columns([c for c in columns if c in rows.column_names])
    return kept.sort_by([(name, "ascending") for name in kept.column_names])
