"""The web dashboard and the read-only SQL query API."""
