"""Orchestration: the supervisor, continuous and cycle modes, and the watchdog."""
