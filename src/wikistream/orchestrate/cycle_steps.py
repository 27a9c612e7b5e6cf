"""The steps of a cycle, each run in its own process by `wikistream step` (JSON in, JSON out).

A gate step decides how far its downstream layer may consume (``until`` snapshot) and passes that
to the next step, so a cycle processes exactly the slice its gate checked. Its output carries the
gate run (``gate``) for the supervisor's metrics and gate-failure alerts.
"""

from __future__ import annotations

from typing import Any

from wikistream.lake.catalog import open_catalog, open_lake
from wikistream.lake.changes import Cursor
from wikistream.lake.gold import GoldStep
from wikistream.lake.silver import SilverStep
from wikistream.orchestrate.feed import gate_record
from wikistream.orchestrate.refine import RefineOutcome, Refiner
from wikistream.quality.gate import run_gate
from wikistream.quality.slices import SliceSpec
from wikistream.settings import Settings


def _refiner(settings: Settings) -> Refiner:
    return Refiner(settings, open_lake(settings))


def _gate(settings: Settings, downstream: str) -> dict[str, Any]:
    refiner = _refiner(settings)
    outcome = RefineOutcome()
    until = refiner.gate_edge(downstream, outcome)
    gate = outcome.gates[-1] if outcome.gates else None
    return {
        "passed": downstream not in outcome.blocked,
        "run_id": gate.run_id if gate else outcome.blocked.get(downstream),
        "summary": gate.summary if gate else "no new data",
        f"{downstream}_until": None
        if until is None
        else {"snapshot_id": until.snapshot_id, "sequence_number": until.sequence_number},
        "gate": gate_record(gate) if gate else None,
    }


def _until(payload: dict[str, Any], key: str) -> Cursor | None:
    body = payload.get(key)
    if not isinstance(body, dict):
        return None
    return Cursor(body.get("snapshot_id"), int(body.get("sequence_number") or 0))


def bronze_gate(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Check the bronze rows silver would consume next."""
    return _gate(settings, "silver")


def silver(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Advance silver up to the slice the bronze gate passed."""
    until = _until(payload, "silver_until")
    if until is None:
        return {"silver_rows": 0}
    result = SilverStep(settings, open_catalog(settings)).run(until=until)
    return {"silver_rows": result.rows_out}


def silver_gate(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Check the silver rows gold would consume next."""
    return _gate(settings, "gold")


def gold(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Advance gold up to the slice the silver gate passed."""
    until = _until(payload, "gold_until")
    if until is None:
        return {"gold_dates": []}
    result = GoldStep(settings, open_catalog(settings)).run(until=until)
    return {"gold_dates": list(result.dates)}


def gold_gate(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """Check the gold rows this cycle refreshed."""
    dates = payload.get("gold_dates") or []
    if not dates:
        return {"passed": True, "summary": "no gold rows refreshed"}
    result = run_gate(settings, open_catalog(settings), "gold", SliceSpec(tuple(dates)))
    return {
        "passed": result.passed,
        "run_id": result.run_id,
        "summary": result.summary,
        "gate": gate_record(result),
    }
