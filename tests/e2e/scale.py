"""The production layout in a test: ingest and lake as separate `wikistream` processes on Kafka.

Three data dirs, like three machines that share nothing but the services:

- ``embedded``: `wikistream run --replay F --once` on SQLite log + SQLite catalog (the default);
- ``ingest``: `wikistream ingest --log kafka --replay F --once` (only Kafka settings);
- ``lake``: `wikistream run --log kafka --stages bronze,silver,gold,dq --once` with a REST catalog
  (SeaweedFS, SigV4 like S3 Tables) on its own S3 Tables bucket as the ``s3://`` warehouse.

Every scale process also carries fake credentials it never needs to print (SASL password, webhook
token, SMTP password, dashboard token) and the AWS keys it does use, so that the same run proves
acceptance 4: no secret reaches stdout, stderr, status files or the lake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.services.seaweed import SeaweedServer
from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.generate import GenerateOptions, write_events

SRC = Path(__file__).resolve().parents[2] / "src"
# The legacy 2018 sample is all Wikidata: keep it, so three schema generations go through.
TARGET_DOMAINS = [*SEED_TARGET_DOMAINS, "www.wikidata.org"]

# Fake secrets: never needed to print anything, so they must never be printed.
SASL_PASSWORD = "fake-sasl-Pw-4RtQ81x"
WEBHOOK_TOKEN = "fake-webhook-Tok-77abZe"
SMTP_PASSWORD = "fake-smtp-Pw-31zzK9"
SERVE_TOKEN = "fake-serve-Tok-0q0qY2"

# Lines that ingest must dead-letter (with a reason), placed between real events.
BAD_LINES = (
    '{"meta": {"id": "cut-off',  # invalid JSON
    '{"$schema": "/mediawiki/recentchange/1.0.0", "meta": {"stream": "mediawiki.recentchange"}, '
    '"type": "edit"}',  # valid JSON, not a recentchange event
)


@dataclass(frozen=True)
class Captured:
    """One finished `wikistream` command: what it was and everything it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Parse stdout (commands run with ``--output json``)."""
        return json.loads(self.stdout)

    def describe(self) -> str:
        return (
            f"`wikistream {' '.join(self.args)}` exited {self.returncode}:\n{self.stderr[-3000:]}"
        )


@dataclass
class ScaleRun:
    """The three data dirs, the services, and every command run so far (for the secret scan)."""

    root: Path
    replay_file: Path
    bootstrap: str
    topic_prefix: str
    table_bucket: str
    weed: SeaweedServer
    commands: list[Captured] = field(default_factory=list)

    @property
    def embedded_dir(self) -> Path:
        return self.root / "embedded"

    @property
    def ingest_dir(self) -> Path:
        return self.root / "ingest"

    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @property
    def secrets(self) -> dict[str, str]:
        """Every credential the scale processes hold, by what it is."""
        return {
            "AWS access key id": self.weed.access_key,
            "AWS secret access key": self.weed.secret_key,
            "SASL password": SASL_PASSWORD,
            "webhook token": WEBHOOK_TOKEN,
            "SMTP password": SMTP_PASSWORD,
            "dashboard token": SERVE_TOKEN,
        }

    def scale_env(self) -> dict[str, str]:
        """Environment of a scale process: AWS chain + Kafka settings, as a container gets them."""
        return {
            **self.weed.env(),
            "WIKISTREAM_LOG__KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            "WIKISTREAM_LOG__KAFKA__TOPIC_PREFIX": self.topic_prefix,
            "WIKISTREAM_LOG__KAFKA__SASL_USERNAME": "wikistream",
            "WIKISTREAM_LOG__KAFKA__SASL_PASSWORD": SASL_PASSWORD,
            "WIKISTREAM_INGEST__TARGET_DOMAINS": json.dumps(TARGET_DOMAINS),
        }

    def wikistream(
        self,
        data_dir: Path,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 240,
    ) -> Captured:
        """Run `python -m wikistream --data-dir D ARGS` and remember what it printed."""
        done = subprocess.run(
            [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            env=clean_env(env or {}),
            timeout=timeout,
            check=False,
        )
        captured = Captured(tuple(args), done.returncode, done.stdout, done.stderr)
        self.commands.append(captured)
        return captured

    def scale(self, data_dir: Path, *args: str, **env: str) -> Captured:
        """A scale command (Kafka log, REST catalog, fake secrets) with debug logs on."""
        return self.wikistream(data_dir, "-v", *args, env={**self.scale_env(), **env})


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without WikiStream/AWS settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIKISTREAM_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def write_lake_config(run: ScaleRun) -> None:
    """``<lake-dir>/wikistream.toml``: REST catalog on SeaweedFS, s3:// warehouse, alert sinks."""
    weed = run.weed
    run.lake_dir.mkdir(parents=True, exist_ok=True)
    (run.lake_dir / "wikistream.toml").write_text(
        f"""
[lake]
warehouse = "s3://{run.table_bucket}"

[lake.catalog]
type = "rest"
uri = "{weed.rest_uri}"
"rest.sigv4-enabled" = "true"
"rest.signing-name" = "s3tables"

[lake.s3]
endpoint = "{weed.s3_endpoint}"
access_key_id = "{weed.access_key}"
secret_access_key = "{weed.secret_key}"

[observe]
metrics_port = 0
webhook_url = "http://127.0.0.1:9/hooks/{WEBHOOK_TOKEN}"
webhook_attempts = 1
smtp_host = "127.0.0.1"
smtp_port = 9
smtp_to = ["trust-and-safety@example.org"]
smtp_username = "alerts"
smtp_password = "{SMTP_PASSWORD}"

[serve]
port = 0
token = "{SERVE_TOKEN}"
""",
        encoding="utf-8",
    )


def create_table_bucket(weed: SeaweedServer, name: str) -> None:
    """A fresh S3 Tables bucket: this run's REST catalog warehouse, shared with nobody."""
    import boto3

    client = boto3.client(
        "s3tables",
        endpoint_url=weed.s3_endpoint,
        region_name=weed.region,
        aws_access_key_id=weed.access_key,
        aws_secret_access_key=weed.secret_key,
    )
    client.create_table_bucket(name=name)


def build_replay_file(shared_data: Path, out: Path) -> Path:
    """Real samples of three schema generations + synthetic planted users + bad lines.

    Order matters for ingest's offset-based dedup: upstream offsets grow from file to file.
    The synthetic part plants one HIGH and one MEDIUM risk user, 1 % late events (other days)
    and 1 % verbatim re-sends, so every gold table has content and dedup has work to do.
    """
    synthetic = out.with_name("synthetic.jsonl")
    write_events(
        GenerateOptions(
            events=6_000,
            seed=7,
            start=datetime(2026, 3, 1, 22, 30, tzinfo=UTC),
            vandals=1,
            late_fraction=0.01,
            duplicate_fraction=0.01,
            target_domains=tuple(TARGET_DOMAINS),
        ),
        synthetic,
    )
    lines: list[str] = []
    for name in (
        "wikidata-recentchange-2018-03-07.jsonl",
        "recentchange-enwiki-2023-07-29.jsonl",
        "recentchange-2026-02-26.jsonl",
    ):
        lines.extend((shared_data / name).read_text(encoding="utf-8").splitlines())
    generated = synthetic.read_text(encoding="utf-8").splitlines()
    middle = len(generated) // 2
    lines.extend([*generated[:middle], *BAD_LINES, *generated[middle:]])
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
