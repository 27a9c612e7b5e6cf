"""Session-scoped pytest fixtures over the real services (registered by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.moto_aws import MotoAws, running_moto
from tests.services.postgres import PostgresServer, running_postgres
from tests.services.seaweed import SeaweedServer, running_seaweed


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS (S3 + Iceberg REST) for the whole session."""
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole session."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def moto_aws() -> Iterator[MotoAws]:
    """One moto server (Glue + S3) for the whole session."""
    with running_moto() as aws:
        yield aws
