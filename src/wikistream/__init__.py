"""WikiStream: the live Wikipedia edit stream as a trustworthy Apache Iceberg lakehouse."""

__version__ = "0.1.0"
