"""Ingest: EventStreams SSE client, validation, filtering, dead-lettering, replay and generator."""
