"""Fixtures of the dashboard tests: one lake with known rows, shared by a test module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.serve.lake_rows import Planted, plant_lake
from wikistream.lake.catalog import open_catalog
from wikistream.serve.lakeread import LakeReader
from wikistream.serve.query import QuerySandbox
from wikistream.settings import Settings, load_settings


@dataclass
class Lake:
    """A data dir with planted tables, a reader and a sandbox over it."""

    settings: Settings
    planted: Planted
    reader: LakeReader
    sandbox: QuerySandbox


def make_lake(data_dir: Path, **serve: object) -> Lake:
    """Plant the known rows under ``data_dir``."""
    settings = load_settings(overrides={"data_dir": data_dir, "serve": serve})
    planted = plant_lake(settings)
    reader = LakeReader(open_catalog(settings))
    return Lake(settings, planted, reader, QuerySandbox(reader, settings.serve))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """A planted lake shared by the tests of one module (they must not change it)."""
    return make_lake(tmp_path_factory.mktemp("lake") / "data", query_timeout_s=2.0)
