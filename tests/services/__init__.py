"""Real services on loopback for integration tests: SeaweedFS (S3 + Iceberg REST), PostgreSQL,
moto (Glue + S3). Each module offers a context manager usable outside pytest and a session-scoped
fixture built on it."""
