"""The durable event log between ingest and bronze: embedded SQLite by default, Kafka at scale."""
