"""Write Arrow rows as Iceberg data files, one file per partition, without pyiceberg's copies.

pyiceberg's ``Transaction.append`` splits a table by partition with a filter *and* a
``combine_chunks`` per partition, even when every row belongs to one partition (the usual case for
a bronze batch: one UTC day). On a 50,000-row bronze batch (~80 MB, mostly the verbatim
``raw_event`` column) those copies cost as much as writing the Parquet file. Here a batch that
lies in one partition is written as it is; a batch spanning several partitions is filtered once per
partition. Files are written by pyiceberg's own ``write_file`` (same Parquet settings, statistics
and file names), so the result is the same table as ``append`` would make.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import (
    _check_pyarrow_schema_compatible,
    bin_pack_arrow_table,
    pyarrow_to_schema,
    write_file,
)
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
from pyiceberg.table import TableProperties, Transaction, WriteTask
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.utils.properties import property_as_int


def _partitions(
    metadata: TableMetadata, rows: pa.Table
) -> Iterator[tuple[PartitionKey | None, pa.Table]]:
    """Split ``rows`` by the partition values of the current spec (no copy for one partition)."""
    spec = metadata.spec()
    schema = metadata.schema()
    if spec.is_unpartitioned():
        yield None, rows
        return
    keys: list[pa.ChunkedArray] = []
    for part in spec.fields:
        source = schema.find_field(part.source_id)
        column = rows.column(schema.find_column_name(part.source_id) or source.name)
        keys.append(part.transform.pyarrow_transform(source.field_type)(column))
    key_table = pa.table({f"k{i}": key for i, key in enumerate(keys)})
    combos = key_table.group_by(key_table.column_names, use_threads=False).aggregate([]).to_pylist()
    for combo in combos:
        values = [combo[f"k{i}"] for i in range(len(keys))]
        key = PartitionKey(
            field_values=[
                PartitionFieldValue(field=part, value=value)
                for part, value in zip(spec.fields, values, strict=True)
            ],
            partition_spec=spec,
            schema=schema,
        )
        if len(combos) == 1:
            yield key, rows
            continue
        mask: pa.ChunkedArray | None = None
        for column, value in zip(keys, values, strict=True):
            match = pc.is_null(column) if value is None else pc.equal(column, value)
            mask = match if mask is None else pc.and_(mask, match)
        yield key, rows.filter(mask)


def write_data_files(
    metadata: TableMetadata, io: FileIO, rows: pa.Table, write_uuid: uuid.UUID
) -> list[DataFile]:
    """Write ``rows`` as Parquet data files of the table described by ``metadata``."""
    _check_pyarrow_schema_compatible(
        metadata.schema(), provided_schema=rows.schema, format_version=metadata.format_version
    )
    task_schema = pyarrow_to_schema(
        rows.schema,
        name_mapping=metadata.schema().name_mapping,
        format_version=metadata.format_version,
    )
    target = (
        property_as_int(
            metadata.properties,
            TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
            TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT,
        )
        or TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT
    )
    tasks: list[WriteTask] = []
    for key, part in _partitions(metadata, rows):
        for batches in bin_pack_arrow_table(part, target):
            tasks.append(
                WriteTask(
                    write_uuid=write_uuid,
                    task_id=len(tasks),
                    record_batches=batches,
                    partition_key=key,
                    schema=task_schema,
                )
            )
    return list(write_file(io=io, table_metadata=metadata, tasks=iter(tasks)))


def append_rows(tx: Transaction, rows: pa.Table, snapshot_properties: dict[str, str]) -> None:
    """Like ``tx.append(rows, snapshot_properties)``, writing through :func:`write_data_files`."""
    with tx._append_snapshot_producer(snapshot_properties) as append:
        if rows.num_rows:
            files = write_data_files(tx.table_metadata, tx._table.io, rows, append.commit_uuid)
            for data_file in files:
                append.append_data_file(data_file)
