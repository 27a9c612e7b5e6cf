"""Find credentials in text, files and lake metadata: the checks behind acceptance 4."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from pyiceberg.catalog import Catalog


def find_secrets(text: str, secrets: Mapping[str, str]) -> list[str]:
    """What each secret found in ``text`` is (e.g. ``"SMTP password"``)."""
    return [what for what, value in secrets.items() if value and value in text]


def scan_files(
    roots: Iterable[Path], secrets: Mapping[str, str], *, skip: Iterable[Path] = ()
) -> dict[str, list[str]]:
    """``{file: [secret kinds]}`` for every file under ``roots`` that holds a secret."""
    skipped = {p.resolve() for p in skip}
    found: dict[str, list[str]] = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.resolve() in skipped:
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            if hits := find_secrets(text, secrets):
                found[str(path)] = hits
    return found


def lake_metadata_text(catalog: Catalog) -> str:
    """Every table's properties, snapshot summaries and locations as one JSON text."""
    parts = []
    for (namespace,) in catalog.list_namespaces():
        for identifier in catalog.list_tables(namespace):
            table = catalog.load_table(identifier)
            parts.append(table.metadata.model_dump_json())
            parts.append(json.dumps(dict(table.properties)))
    return "\n".join(parts)
