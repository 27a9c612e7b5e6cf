"""Data-quality checks, gates and audit tables."""
