"""Which files a table's metadata still references (for snapshot expiry and orphan removal)."""

from __future__ import annotations

from collections.abc import Iterable

from pyiceberg.manifest import ManifestFile
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot


class ManifestCache:
    """Live file paths per manifest, read once per run (manifests never change once written)."""

    def __init__(self) -> None:
        self._files: dict[str, frozenset[str]] = {}

    def live_files(self, table: Table, manifest: ManifestFile) -> frozenset[str]:
        path = manifest.manifest_path
        files = self._files.get(path)
        if files is None:
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            files = frozenset(entry.data_file.file_path for entry in entries)
            self._files[path] = files
        return files


def snapshot_files(
    table: Table,
    snapshots: Iterable[Snapshot],
    cache: ManifestCache | None = None,
    *,
    data_files: bool = True,
) -> set[str]:
    """Manifest lists, manifests and (with ``data_files``) live data/delete files of ``snapshots``.

    Without data files only the manifest lists are read, which stays cheap on big tables.
    """
    cache = cache or ManifestCache()
    paths: set[str] = set()
    for snapshot in snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            paths.add(manifest.manifest_path)
            if data_files:
                paths.update(cache.live_files(table, manifest))
    return paths


def metadata_files(table: Table) -> set[str]:
    """The current metadata file, the metadata log and statistics files."""
    meta = table.metadata
    paths = {table.metadata_location}
    paths.update(entry.metadata_file for entry in meta.metadata_log)
    paths.update(stat.statistics_path for stat in meta.statistics)
    paths.update(stat.statistics_path for stat in meta.partition_statistics)
    return paths


def referenced_files(table: Table, cache: ManifestCache | None = None) -> set[str]:
    """Every file any live snapshot or the metadata references."""
    return snapshot_files(table, table.snapshots(), cache) | metadata_files(table)
