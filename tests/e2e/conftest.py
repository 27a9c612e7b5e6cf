"""One replay through both layouts, shared by the acceptance tests of this package.

The runs take ~30 s together, so they happen once per session, only when an e2e test asks.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import SHARED_DATA
from tests.e2e.scale import (
    TARGET_DOMAINS,
    ScaleRun,
    build_replay_file,
    create_table_bucket,
    write_lake_config,
)
from tests.kafka_broker import kafka_broker
from tests.services.seaweed import SeaweedServer

__all__ = ["kafka_broker", "scale_run"]


@pytest.fixture(scope="session")
def scale_run(
    tmp_path_factory: pytest.TempPathFactory, kafka_broker: str, seaweed: SeaweedServer
) -> ScaleRun:
    """The same replay file through the embedded run and through ingest + lake on Kafka/REST."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data folder {SHARED_DATA} is missing; set SHARED_DATA_DIR")
    root = tmp_path_factory.mktemp("scale")
    unique = uuid.uuid4().hex[:8]
    run = ScaleRun(
        root=root,
        replay_file=build_replay_file(SHARED_DATA, root / "replay.jsonl"),
        bootstrap=kafka_broker,
        topic_prefix=f"e2e-{unique}.",
        table_bucket=f"e2e-{unique}",
        weed=seaweed,
    )
    create_table_bucket(seaweed, run.table_bucket)
    write_lake_config(run)
    replay = ("--replay", str(run.replay_file), "--speed", "max", "--once", "-o", "json")

    embedded = run.wikistream(
        run.embedded_dir,
        "run",
        *replay,
        env={"WIKISTREAM_INGEST__TARGET_DOMAINS": json.dumps(TARGET_DOMAINS)},
    )
    assert embedded.returncode == 0, embedded.describe()
    # Production: an ingest container and a lake container share only Kafka (and the lake).
    ingest = run.scale(run.ingest_dir, "ingest", "--log", "kafka", *replay)
    assert ingest.returncode == 0, ingest.describe()
    lake = run.scale(
        run.lake_dir,
        "run",
        "--log",
        "kafka",
        "--stages",
        "bronze,silver,gold,dq",
        "--once",
        "-o",
        "json",
    )
    assert lake.returncode == 0, lake.describe()
    return run
