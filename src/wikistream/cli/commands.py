"""The list of command groups; each stage keeps its commands in its own module."""

from __future__ import annotations

import importlib

import typer

# Modules defining `register(app)`; a module that does not exist yet is skipped.
COMMAND_MODULES = (
    "wikistream.cli.ingest_cmd",
    "wikistream.cli.generate_cmd",
    "wikistream.cli.log_cmd",
    "wikistream.cli.lake_cmd",
    "wikistream.cli.catalog_cmd",
    "wikistream.cli.rebuild_cmd",
    "wikistream.cli.run_cmd",
    "wikistream.cli.quality_cmd",
    "wikistream.cli.serve_cmd",
    "wikistream.cli.alert_cmd",
)


def register(app: typer.Typer) -> None:
    """Import each command module and let it add its commands to ``app``."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)
