"""Cycle steps for the cycle-mode acceptance test (run by `wikistream step` in a child process).

``flaky`` fails its very first attempt; ``hang`` hangs (past ``orchestrate.step_timeout_s``) until
the test creates ``<data-dir>/stop-hanging``. Every attempt is logged to ``<data-dir>/attempts``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from wikistream.errors import WikiStreamError
from wikistream.settings import Settings


def _log(settings: Settings, name: str) -> int:
    path = settings.data_dir / "attempts"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{name} {os.getpid()} {time.time()}\n")
    return sum(1 for line in path.read_text().splitlines() if line.split()[0] == name)


def prepare(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Always succeeds; hands a value to the next steps."""
    _log(settings, "prepare")
    return {"prepared": True}


def flaky(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Fails on its first attempt ever, succeeds afterwards."""
    if _log(settings, "flaky") == 1:
        raise WikiStreamError("planted failure of the first flaky attempt")
    return {"flaky_saw_prepared": payload.get("prepared", False)}


def hang(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Hangs until the test allows it to finish."""
    _log(settings, "hang")
    while not (settings.data_dir / "stop-hanging").exists():
        time.sleep(0.2)
    return {"hung": False}


def failing_gate(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """A bronze gate step whose gate failed, shaped like the real gate steps' output."""
    _log(settings, "failing_gate")
    check = {
        "table": "bronze.raw_events",
        "check_name": "uniqueness_event_id",
        "check_type": "uniqueness",
        "status": "FAILED",
        "metric_value": 0.5,
        "threshold_value": 1.0,
        "message": "uniqueness_event_id: 0.5 >= 1 VIOLATED",
        "check_duration_ms": 3,
        "blocking": True,
    }
    gate = {
        "run_id": "dq-20260226-120000-0badc0de",
        "layer": "bronze",
        "tables": "bronze.raw_events",
        "passed": False,
        "at": "2026-02-26T12:00:00+00:00",
        "summary": "bronze gate FAILED",
        "results": [check],
    }
    return {
        "passed": False,
        "run_id": gate["run_id"],
        "summary": "bronze gate FAILED",
        "gate": gate,
    }
