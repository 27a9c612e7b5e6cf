"""AWS Glue and S3 mocked by moto's HTTP server on 127.0.0.1 (the edge of the machine: AWS).

pyiceberg's Glue catalog talks to it over real HTTP through boto3, and the warehouse lives in its
S3. moto checks no signatures, so credential failures cannot be tested here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ACCESS_KEY = "AKIAMOTOGLUEFAKE0001"
SECRET_KEY = "moto-fake-glue-secret-Wp4rK8sD"  # fake; tests grep for it
REGION = "us-east-1"
BUCKET = "glue-lake"


@dataclass
class MotoAws:
    """A running moto server and the Glue catalog properties that reach it."""

    endpoint: str
    server: Any

    def glue_catalog_properties(self, prefix: str) -> dict[str, str]:
        """A Glue catalog with its warehouse at ``s3://glue-lake/<prefix>``."""
        return {
            "type": "glue",
            "glue.endpoint": self.endpoint,
            "glue.region": REGION,
            "glue.access-key-id": ACCESS_KEY,
            "glue.secret-access-key": SECRET_KEY,
            "s3.endpoint": self.endpoint,
            "s3.region": REGION,
            "s3.access-key-id": ACCESS_KEY,
            "s3.secret-access-key": SECRET_KEY,
            "warehouse": f"s3://{BUCKET}/{prefix}",
        }


@contextlib.contextmanager
def running_moto() -> Iterator[MotoAws]:
    """moto's server (Glue + S3) with the warehouse bucket created."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        ).create_bucket(Bucket=BUCKET)
        yield MotoAws(endpoint=endpoint, server=server)
    finally:
        server.stop()
