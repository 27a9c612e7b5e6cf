"""Iceberg schemas and partitioning of every WikiStream table.

Column names and meanings follow SEED-FACTS §2.2 (bronze), §3.4 (silver), §4.2–4.4 (gold) and §5.7
(audit); columns we add are marked ``# ours``. Timestamps are ``timestamptz`` (aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform, Transform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

SCHEMA_VERSION = "1.0.0"

S: IcebergType = StringType()
I32: IcebergType = IntegerType()
L: IcebergType = LongType()
D: IcebergType = DoubleType()
B: IcebergType = BooleanType()
T: IcebergType = TimestamptzType()

Column = tuple[str, IcebergType, bool]  # name, type, required


@dataclass(frozen=True)
class TableDef:
    """One table: identifier, columns, partition fields and properties."""

    identifier: str
    columns: tuple[Column, ...]
    partition: tuple[tuple[str, Transform[Any, Any], str], ...] = ()
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.identifier.split(".", 1)[0]

    @property
    def column_names(self) -> list[str]:
        return [name for name, _, _ in self.columns]

    def schema(self) -> Schema:
        """The Iceberg schema with field ids 1..n in column order."""
        return Schema(
            *(
                NestedField(field_id=i, name=name, field_type=typ, required=req)
                for i, (name, typ, req) in enumerate(self.columns, start=1)
            )
        )

    def partition_spec(self) -> PartitionSpec:
        """The partition spec (ids from 1000), resolved against :meth:`schema`."""
        schema = self.schema()
        return PartitionSpec(
            *(
                PartitionField(
                    source_id=schema.find_field(source).field_id,
                    field_id=1000 + i,
                    transform=transform,
                    name=name,
                )
                for i, (source, transform, name) in enumerate(self.partition)
            )
        )


TABLE_PROPERTIES = {
    "format-version": "2",
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "zstd",
    "write.target-file-size-bytes": "268435456",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "10",
}

# ours: silver and gold commit every cycle; merging manifests on append keeps scan planning from
# reading one manifest per past commit.
MERGED_MANIFESTS = {"commit.manifest-merge.enabled": "true"}

BRONZE = TableDef(
    "bronze.raw_events",
    (
        ("event_id", S, True),
        ("kafka_topic", S, False),
        ("kafka_partition", I32, False),
        ("kafka_offset", L, False),
        ("kafka_timestamp", T, False),
        ("rc_id", L, False),
        ("event_type", S, False),
        ("namespace", I32, False),
        ("domain", S, False),
        ("title", S, False),
        ("title_url", S, False),
        ("user", S, False),
        ("is_bot", B, False),
        ("comment", S, False),
        ("wiki", S, False),
        ("server_name", S, False),
        ("length_old", I32, False),
        ("length_new", I32, False),
        ("length_delta", I32, False),
        ("revision_old", L, False),
        ("revision_new", L, False),
        ("event_timestamp", T, False),
        ("producer_ingested_at", T, False),
        ("bronze_processed_at", T, False),
        ("event_date", S, False),
        ("event_hour", I32, False),
        ("schema_version", S, False),
        ("meta_dt", T, False),  # ours: meta.dt parsed
        ("log_partition", I32, False),  # ours: position in the event log
        ("log_offset", L, False),  # ours
        ("raw_event", S, False),  # ours: the original event JSON, verbatim
    ),
    partition=(("event_timestamp", DayTransform(), "event_day"),),
)

SILVER = TableDef(
    "silver.cleaned_events",
    (
        ("event_id", S, True),
        ("rc_id", L, False),
        ("event_type", S, False),
        ("domain", S, False),
        ("region", S, False),
        ("language", S, False),
        ("title", S, False),
        ("namespace", I32, False),
        ("user_normalized", S, False),
        ("is_bot", B, False),
        ("is_anonymous", B, False),
        ("length_old", I32, False),
        ("length_new", I32, False),
        ("length_delta", I32, False),
        ("revision_old", L, False),
        ("revision_new", L, False),
        ("is_valid", B, False),
        ("is_large_deletion", B, False),
        ("is_large_addition", B, False),
        ("event_timestamp", T, False),
        ("bronze_processed_at", T, False),
        ("silver_processed_at", T, False),
        ("event_date", S, False),
        ("schema_version", S, False),
        ("user_kind", S, False),  # ours: registered | ip | temporary
        ("event_hour", I32, False),  # ours: UTC hour of event_timestamp
        ("log_partition", I32, False),  # ours: bronze's log position (dedup keeps the earliest)
        ("log_offset", L, False),  # ours
    ),
    partition=(("event_date", IdentityTransform(), "event_date"),),
    properties=MERGED_MANIFESTS,
)

HOURLY_STATS = TableDef(
    "gold.hourly_stats",
    (
        ("stat_date", S, True),
        ("stat_hour", I32, True),
        ("domain", S, True),
        ("region", S, False),
        ("total_events", L, False),
        ("unique_users", L, False),
        ("unique_pages", L, False),
        ("bytes_added", L, False),
        ("bytes_removed", L, False),
        ("avg_edit_size", D, False),
        ("bot_edits", L, False),
        ("human_edits", L, False),
        ("bot_percentage", D, False),
        ("anonymous_edits", L, False),
        ("type_edit", L, False),
        ("type_new", L, False),
        ("type_categorize", L, False),
        ("type_log", L, False),
        ("large_deletions", L, False),
        ("large_additions", L, False),
        ("gold_processed_at", T, False),
        ("schema_version", S, False),
        ("ip_edits", L, False),  # ours
        ("temporary_edits", L, False),  # ours
    ),
    partition=(("stat_date", IdentityTransform(), "stat_date"),),
    properties=MERGED_MANIFESTS,
)

RISK_SCORES = TableDef(
    "gold.risk_scores",
    (
        ("stat_date", S, True),
        ("entity_id", S, True),
        ("entity_type", S, False),
        ("total_edits", L, False),
        ("edits_per_hour_avg", D, False),
        ("large_deletions", L, False),
        ("domains_edited", L, False),
        ("risk_score", D, False),
        ("risk_level", S, False),
        ("evidence", S, False),
        ("alert_triggered", B, False),
        ("gold_processed_at", T, False),
        ("schema_version", S, False),
        ("anonymous_edits", L, False),  # ours
        ("peak_hour_edits", L, False),  # ours: max edits in one clock hour
        ("velocity_points", D, False),  # ours: each factor's points
        ("deletion_points", D, False),  # ours
        ("anonymous_points", D, False),  # ours
        ("cross_domain_points", D, False),  # ours
        ("user_kind", S, False),  # ours
    ),
    partition=(("stat_date", IdentityTransform(), "stat_date"),),
    properties=MERGED_MANIFESTS,
)

DAILY_SUMMARY = TableDef(
    "gold.daily_analytics_summary",
    (
        ("summary_date", S, True),
        ("total_events", L, False),
        ("unique_users", L, False),
        ("active_domains", L, False),
        ("unique_pages_edited", L, False),
        ("bot_percentage", D, False),
        ("anonymous_percentage", D, False),
        ("registered_user_percentage", D, False),
        ("total_bytes_added", L, False),
        ("total_bytes_removed", L, False),
        ("net_content_change", L, False),
        ("avg_edit_size_bytes", D, False),
        ("new_pages_created", L, False),
        ("large_deletions_count", L, False),
        ("large_additions_count", L, False),
        ("large_deletion_rate", D, False),
        ("high_risk_user_count", L, False),
        ("medium_risk_user_count", L, False),
        ("low_risk_user_count", L, False),
        ("platform_avg_risk_score", D, False),
        ("platform_max_risk_score", D, False),
        ("total_alerts_triggered", L, False),
        ("europe_percentage", D, False),
        ("americas_percentage", D, False),
        ("asia_pacific_percentage", D, False),
        ("peak_hour_events", L, False),
        ("avg_events_per_hour", D, False),
        ("platform_health_score", D, False),
        ("gold_processed_at", T, False),
        ("schema_version", S, False),
        ("middle_east_percentage", D, False),  # ours
        ("other_percentage", D, False),  # ours
    ),
    properties=MERGED_MANIFESTS,
)

QUALITY_RESULTS = TableDef(
    "dq_audit.quality_results",
    (
        ("run_id", S, True),
        ("layer", S, True),
        ("table_name", S, True),
        ("check_name", S, True),
        ("check_type", S, True),
        ("status", S, True),
        ("metric_value", D, False),
        ("threshold_value", D, False),
        ("records_checked", L, False),
        ("records_passed", L, False),
        ("records_failed", L, False),
        ("failure_rate", D, False),
        ("message", S, False),
        ("evidence", S, False),
        ("check_duration_ms", L, False),
        ("run_timestamp", T, True),
        ("run_date", S, True),
        ("severity", S, False),  # ours: error | warning
        ("slice", S, False),  # ours: which data the run checked (JSON)
    ),
    partition=(
        ("run_date", IdentityTransform(), "run_date"),
        ("layer", IdentityTransform(), "layer"),
    ),
)

PROFILE_METRICS = TableDef(
    "dq_audit.profile_metrics",
    (
        ("run_id", S, True),
        ("layer", S, True),
        ("table_name", S, True),
        ("column_name", S, True),
        ("record_count", L, False),
        ("null_count", L, False),
        ("null_rate", D, False),
        ("distinct_count", L, False),
        ("mean_value", D, False),
        ("stddev_value", D, False),
        ("min_value", D, False),
        ("max_value", D, False),
        ("percentile_25", D, False),
        ("percentile_50", D, False),
        ("percentile_75", D, False),
        ("percentile_95", D, False),
        ("run_timestamp", T, True),
        ("run_date", S, True),
    ),
    partition=(
        ("run_date", IdentityTransform(), "run_date"),
        ("layer", IdentityTransform(), "layer"),
    ),
)

ALL_TABLES: tuple[TableDef, ...] = (
    BRONZE,
    SILVER,
    HOURLY_STATS,
    RISK_SCORES,
    DAILY_SUMMARY,
    QUALITY_RESULTS,
    PROFILE_METRICS,
)
NAMESPACES: tuple[str, ...] = ("bronze", "silver", "gold", "dq_audit")
