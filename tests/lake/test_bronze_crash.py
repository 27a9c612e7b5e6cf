"""Crash safety: SIGKILL the bronze writer at random moments; bronze still holds each event once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog

from wikistream.eventlog.registry import open_event_log
from wikistream.lake.bronze import DLQ_CHECKPOINT, GROUP, POSITION_PROPERTY
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.schemas import BRONZE
from wikistream.settings import Settings

from .envelopes import envelope, event_line, raw_value, real_lines

SRC = Path(__file__).resolve().parents[2] / "src"
KILLS = 22


def writer_process(data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["WIKISTREAM_LAKE__COMMIT_ROWS"] = "20"
    env.pop("WIKISTREAM_SHARED_DATA", None)
    return subprocess.Popen(
        [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), "bronze", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stored_position(catalog: Catalog) -> int:
    table = ensure_table(catalog, BRONZE)
    return int(json.loads(table.properties.get(POSITION_PROPERTY, "{}")).get("0", -1))


def wait_for_first_commit(catalog: Catalog, proc: subprocess.Popen[bytes]) -> None:
    start = stored_position(catalog)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        if stored_position(catalog) != start:
            return
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.integration
def test_sigkill_at_random_moments_keeps_bronze_exactly_once(
    lake_settings: Settings, shared_data: Path
) -> None:
    rng = random.Random(20260226)
    lines = real_lines(shared_data, lake_settings.ingest.target_domains)
    log = open_event_log(lake_settings)
    catalog = open_catalog(lake_settings)
    expected: set[str] = set()
    bad_positions: set[str] = set()
    sent: list[bytes] = []
    cursor = 0
    kills = 0
    mid_batch = 0
    previous = -1
    # Rounds go on until KILLS runs were really killed (a fast machine lets some finish before
    # their kill moment), then one last run completes.
    for round_no in range(3 * KILLS):
        # ingest keeps appending: new events, re-sent ones, an occasional bad record
        chunk = lines[cursor : cursor + 200] + [event_line() for _ in range(40)]
        cursor += 200
        records = [envelope(x) for x in chunk]
        records += [envelope(x.decode()) for x in rng.sample(sent, min(20, len(sent)))]
        if round_no % 3 == 0:
            records.append(raw_value(b'{"id": "broken", "data": "{"'))
            bad_positions.add(f"raw-events/0/{log.head('raw-events').get(0, -1) + len(records)}")
        log.append({"raw-events": records})
        expected.update(json.loads(x)["meta"]["id"] for x in chunk)
        sent.extend(json.dumps(json.loads(x)).encode() for x in chunk[:5])

        proc = writer_process(lake_settings.data_dir)
        if kills == KILLS or round_no == 3 * KILLS - 1:  # the last run completes
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()
            break
        if round_no % 2:
            time.sleep(rng.uniform(0.2, 4.0))  # anywhere: start-up, reading, committing
        else:
            wait_for_first_commit(catalog, proc)  # then somewhere inside the batch loop
            time.sleep(rng.uniform(0.0, 1.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        # every table reads without error after each crash
        table = ensure_table(catalog, BRONZE)  # the first kills may come before it exists
        ids = table.scan(selected_fields=("event_id",)).to_arrow().column(0).to_pylist()
        assert len(ids) == len(set(ids)), f"duplicate after crash {round_no}"
        stored = stored_position(catalog)
        if previous < stored < log.head("raw-events")[0]:
            mid_batch += 1  # killed after some commits, before the end: the interesting case
        previous = stored

    assert kills >= 20, f"only {kills} of {round_no + 1} runs were killed before they finished"
    assert mid_batch >= 5, f"only {mid_batch} kills landed between commits"
    table = catalog.load_table(BRONZE.identifier)
    ids = table.scan(selected_fields=("event_id",)).to_arrow().column(0).to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    head = log.head("raw-events")
    assert log.committed(GROUP, "raw-events") == head
    dlq = log.read(lake_settings.log.dlq_topic, {}, 10_000)
    keys = [r.key.decode() for r in dlq if r.key]
    assert len(keys) == len(set(keys)) == len(bad_positions)
    assert set(keys) == bad_positions
    assert log.load_checkpoint(DLQ_CHECKPOINT) is not None
    log.close()
