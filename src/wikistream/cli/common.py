"""What every command shares: loading settings once, and rendering data as text or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import typer

from wikistream.settings import Settings, load_settings


class OutputFormat(StrEnum):
    """How a command prints data."""

    table = "table"
    json = "json"
    csv = "csv"


@dataclass
class CliState:
    """Global options given before the sub-command."""

    config_file: Path | None = None
    data_dir: Path | None = None
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self, **overrides: Any) -> Settings:
        """Load settings once (file < env < flags); later calls return the same tree."""
        if self._settings is None:
            merged: dict[str, Any] = {"data_dir": self.data_dir}
            merged.update(overrides)
            self._settings = load_settings(self.config_file, merged)
        return self._settings


def state(ctx: typer.Context) -> CliState:
    """Return the CLI state stored by the root callback."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Enum):
        return value.value
    return str(value)


def to_json(data: Any) -> str:
    """Serialize command output as JSON (datetimes as ISO-8601)."""
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    output: OutputFormat,
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Print rows as a rich table, JSON array or CSV."""
    cols = list(columns or (rows[0].keys() if rows else []))
    if output is OutputFormat.json:
        typer.echo(to_json([dict(r) for r in rows]))
        return
    if output is OutputFormat.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in cols])
        return
    from rich.console import Console  # only for tables: JSON and CSV output start faster
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in cols))
    Console().print(table)


def render_mapping(
    data: Mapping[str, Any], output: OutputFormat, *, title: str | None = None
) -> None:
    """Print one record as key/value lines or JSON."""
    if output is OutputFormat.json:
        typer.echo(to_json(dict(data)))
        return
    render_rows(
        [{"key": k, "value": v} for k, v in data.items()],
        OutputFormat.table if output is OutputFormat.table else output,
        title=title,
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict | list):
        return json.dumps(value, default=_default)
    return str(value)


OUTPUT_OPTION = typer.Option(OutputFormat.table, "--output", "-o", help="table, json or csv.")
