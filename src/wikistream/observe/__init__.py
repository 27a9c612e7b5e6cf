"""Observability: Prometheus metrics and alert rules and sinks."""
