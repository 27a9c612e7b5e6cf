"""A real SqlCatalog lake per test, and helpers to fill it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from tests.quality.rows import T0
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.schemas import ALL_TABLES
from wikistream.settings import Settings


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    """A fresh catalog; tables are created on first use (as the gate does), which is faster."""
    return open_catalog(settings)


def lake_table(catalog: Catalog, identifier: str) -> Table:
    """Load a WikiStream table by identifier, creating it if needed."""
    (defn,) = [t for t in ALL_TABLES if t.identifier == identifier]
    return ensure_table(catalog, defn)


@pytest.fixture
def append(catalog: Catalog) -> Callable[[str, pa.Table], None]:
    """Append an Arrow table to a lake table by identifier."""

    def _append(identifier: str, data: pa.Table) -> None:
        lake_table(catalog, identifier).append(data)

    return _append


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A clock that advances one minute per call, starting a day after the fixtures' data."""
    state = {"now": T0 + timedelta(days=1)}

    def _now() -> datetime:
        state["now"] += timedelta(minutes=1)
        return state["now"]

    return _now
