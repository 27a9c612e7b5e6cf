"""Fixtures for silver/gold tests: a real lake (SQLite catalog + local warehouse) per test."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from tests.lake.bronze_rows import append_bronze
from tests.lake.envelopes import catalog, event_log, lake_settings  # noqa: F401  (fixtures)
from wikistream.lake.catalog import ensure_lake, open_catalog
from wikistream.lake.gold import GoldStep
from wikistream.lake.schemas import (
    BRONZE,
    DAILY_SUMMARY,
    HOURLY_STATS,
    RISK_SCORES,
    SILVER,
    TableDef,
)
from wikistream.lake.silver import SilverStep
from wikistream.lake.steps import StepResult
from wikistream.settings import Settings

SORT_KEYS: dict[str, tuple[str, ...]] = {
    SILVER.identifier: ("event_date", "event_id"),
    HOURLY_STATS.identifier: ("stat_date", "stat_hour", "domain"),
    RISK_SCORES.identifier: ("stat_date", "entity_id"),
    DAILY_SUMMARY.identifier: ("summary_date",),
}


@dataclass
class Lake:
    """A real lake plus shortcuts: append bronze rows, run steps, read tables as sorted dicts."""

    settings: Settings
    catalog: Catalog

    def table(self, table: TableDef) -> Table:
        return self.catalog.load_table(table.identifier)

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        append_bronze(self.table(BRONZE), rows)

    def silver(self) -> StepResult:
        return SilverStep(self.settings, self.catalog).run()

    def gold(self) -> StepResult:
        return GoldStep(self.settings, self.catalog).run()

    def run(self) -> tuple[StepResult, StepResult]:
        return self.silver(), self.gold()

    def rows(self, table: TableDef, *, keep_processed_at: bool = False) -> list[dict[str, Any]]:
        """Every row of ``table`` sorted by its key, without *_processed_at by default."""
        arrow = self.table(table).scan().to_arrow()
        rows = arrow.to_pylist()
        if not keep_processed_at:
            for row in rows:
                row.pop("silver_processed_at", None)
                row.pop("gold_processed_at", None)
        keys = SORT_KEYS[table.identifier]
        return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))

    def one(self, table: TableDef, **where: Any) -> dict[str, Any]:
        """The single row of ``table`` matching ``where``."""
        found = [r for r in self.rows(table) if all(r[k] == v for k, v in where.items())]
        assert len(found) == 1, f"expected one {table.identifier} row for {where}, got {found}"
        return found[0]


def make_lake(data_dir: Path) -> Lake:
    """A fresh lake under ``data_dir``."""
    settings = Settings(data_dir=data_dir)  # defaults only: no environment, no config file
    lake_catalog = open_catalog(settings)
    ensure_lake(lake_catalog)
    return Lake(settings, lake_catalog)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A fresh lake under the test's tmp dir."""
    return make_lake(tmp_path / "data")
