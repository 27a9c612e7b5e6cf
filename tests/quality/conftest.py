"""A real SqlCatalog lake per test, and helpers to fill it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog

from tests.quality.rows import T0
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.settings import Settings


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    """A fresh lake with every table created."""
    cat = open_catalog(settings)
    ensure_lake(cat)
    return cat


@pytest.fixture
def append(catalog: Catalog) -> Callable[[str, pa.Table], None]:
    """Append an Arrow table to a lake table by identifier."""

    def _append(identifier: str, data: pa.Table) -> None:
        catalog.load_table(identifier).append(data)

    return _append


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A clock that advances one minute per call, starting a day after the fixtures' data."""
    state = {"now": T0 + timedelta(days=1)}

    def _now() -> datetime:
        state["now"] += timedelta(minutes=1)
        return state["now"]

    return _now
