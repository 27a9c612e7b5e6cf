"""The refine chain: bronze gate → silver → silver gate → gold → gold gate, on exact slices.

Each layer's cursor is the last upstream snapshot it consumed. A gate checks exactly the upstream
rows the next step would consume (the files added between the downstream cursor and a fixed
upstream snapshot) and the step then consumes up to that same snapshot, so rows committed upstream
in between wait for the next gate. A failed error-level gate leaves the downstream cursor where it
is: nothing of the bad slice reaches the next layer, and ingest and bronze keep running. The gate
runs again when new upstream data arrives (the next trigger). An operator can accept a failed slice
with ``wikistream dq override --run-id``; the chain then consumes up to that run's snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from wikistream.lake import gold as gold_module
from wikistream.lake import silver as silver_module
from wikistream.lake.catalog import ensure_table
from wikistream.lake.changes import Cursor, current_cursor, oldest, plan_changes, read_files
from wikistream.lake.gold import GOLD_TABLES, GoldStep
from wikistream.lake.schemas import BRONZE, SILVER, TableDef
from wikistream.lake.silver import SilverStep
from wikistream.lake.steps import StepResult
from wikistream.quality.audit import overridden_runs
from wikistream.quality.gate import GateResult, layer_tables, run_gate
from wikistream.quality.slices import SliceSpec, data_dates
from wikistream.settings import Settings

log = logging.getLogger(__name__)

# downstream layer -> (gated upstream layer, upstream table, downstream cursor prefix, the
# downstream tables holding a cursor: the layer is behind as long as any of them is)
_EDGES: dict[str, tuple[str, TableDef, str, tuple[TableDef, ...]]] = {
    "silver": ("bronze", BRONZE, silver_module.CURSOR_PREFIX, (SILVER,)),
    "gold": ("silver", SILVER, gold_module.CURSOR_PREFIX, tuple(GOLD_TABLES)),
}


def batch_id(layer: str, since: Cursor, until: Cursor) -> str:
    """The identity of a gated slice: ``<layer>:<from snapshot>:<to snapshot>``."""
    return f"{layer}:{since.snapshot_id or 0}:{until.snapshot_id or 0}"


def _parse_batch(text: str | None) -> tuple[str, int, int] | None:
    if not text:
        return None
    parts = text.split(":")
    if len(parts) != 3 or not parts[1].lstrip("-").isdigit() or not parts[2].lstrip("-").isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


@dataclass
class RefineOutcome:
    """What one pass of the chain did."""

    silver: StepResult | None = None
    gold: StepResult | None = None
    gates: list[GateResult] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # layer -> failing gate run id
    accepted: dict[str, str] = field(default_factory=dict)  # layer -> overridden run id

    @property
    def progressed(self) -> bool:
        """True when silver or gold wrote something."""
        return any(r is not None and not r.noop for r in (self.silver, self.gold))


class Refiner:
    """Runs the chain; ``on_gate`` sees every gate result (metrics, alerts)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        on_gate: Callable[[GateResult], None] | None = None,
        gates: bool | None = None,
        layers: tuple[str, ...] = ("silver", "gold"),
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.on_gate = on_gate or (lambda result: None)
        self.gates = settings.quality.enabled if gates is None else gates
        self.layers = layers
        self._failed: dict[str, str] = {}  # layer -> batch id of the last failing gate
        self._failed_run: dict[str, str] = {}

    # -- gating one edge -------------------------------------------------------------------
    def _accepted_until(
        self, upstream_layer: str, upstream: Table, since: Cursor
    ) -> tuple[Cursor, str] | None:
        """The end of a failed slice starting at ``since`` that an operator accepted, if any.

        An accepted slice whose end snapshot has been expired since cannot be delimited any more;
        it is skipped with a warning (the chain then re-checks the current slice, which the
        operator can accept in turn) instead of failing every pass.
        """
        for run in reversed(overridden_runs(self.catalog, upstream_layer)):
            parsed = _parse_batch(run.batch_id)
            if not run.accepted or run.passed or parsed is None:
                continue
            if parsed[1] != (since.snapshot_id or 0):
                continue
            if upstream.metadata.snapshot_by_id(parsed[2]) is None:
                log.warning(
                    "override of %s cannot be applied: %s snapshot %s has been expired; accept "
                    "the newest failed run instead (`wikistream dq runs --layer %s`)",
                    run.run_id,
                    upstream_layer,
                    parsed[2],
                    upstream_layer,
                )
                continue
            return Cursor(parsed[2], 0), run.run_id
        return None

    def gate_edge(self, layer: str, outcome: RefineOutcome) -> Cursor | None:
        """Decide how far ``layer`` may consume; ``None`` means not at all (blocked or idle)."""
        upstream_layer, upstream_def, prefix, cursor_defs = _EDGES[layer]
        upstream = ensure_table(self.catalog, upstream_def)
        # Gold commits its tables one by one: after a crash between two commits the oldest
        # cursor is where the layer stands (the others recompute nothing again).
        since = oldest(
            Cursor.load(ensure_table(self.catalog, d).properties, prefix) for d in cursor_defs
        )
        head = current_cursor(upstream)
        if head.snapshot_id is None or head.snapshot_id == since.snapshot_id:
            return None
        if not self.gates:
            return head
        accepted = self._accepted_until(upstream_layer, upstream, since)
        if accepted is not None:
            until, run_id = accepted
            until = _with_sequence(upstream, until)
            outcome.accepted[layer] = run_id
            log.warning("%s: consuming the slice accepted by override of %s", layer, run_id)
            return until
        plan = plan_changes(upstream, since, head)
        if not plan.added:  # only compactions/deletes upstream: nothing new to check
            return plan.target
        slice_id = batch_id(upstream_layer, since, plan.target)
        if self._failed.get(layer) == slice_id:
            outcome.blocked[layer] = self._failed_run[layer]
            return None  # same bad slice, no new data: wait for the next trigger
        gate_def = layer_tables(upstream_layer)[0]
        rows = read_files(upstream, plan.added, gate_def.columns(self.settings))
        spec = SliceSpec(data_dates(rows, gate_def.date_column), slice_id)
        result = run_gate(self.settings, self.catalog, upstream_layer, spec, data=rows)
        outcome.gates.append(result)
        self.on_gate(result)
        if result.passed:
            self._failed.pop(layer, None)
            self._failed_run.pop(layer, None)
            return plan.target
        self._failed[layer] = slice_id
        self._failed_run[layer] = result.run_id
        outcome.blocked[layer] = result.run_id
        log.error("%s blocked: %s", layer, result.summary)
        return None

    # -- the chain -------------------------------------------------------------------------
    def run_once(self) -> RefineOutcome:
        """One pass: gate and advance silver, then gold, then gate gold's new rows."""
        outcome = RefineOutcome()
        if "silver" in self.layers:
            until = self.gate_edge("silver", outcome)
            if until is not None:
                outcome.silver = SilverStep(self.settings, self.catalog).run(until=until)
        if "gold" in self.layers:
            until = self.gate_edge("gold", outcome)
            if until is not None:
                outcome.gold = GoldStep(self.settings, self.catalog).run(until=until)
                if self.gates and not outcome.gold.noop and outcome.gold.dates:
                    result = run_gate(
                        self.settings, self.catalog, "gold", SliceSpec(outcome.gold.dates)
                    )
                    outcome.gates.append(result)
                    self.on_gate(result)
        return outcome

    def run_until_idle(self, max_passes: int = 1000) -> list[RefineOutcome]:
        """Repeat passes until one makes no progress (for ``--once`` and cycle mode)."""
        outcomes: list[RefineOutcome] = []
        for _ in range(max_passes):
            outcome = self.run_once()
            outcomes.append(outcome)
            if not outcome.progressed:
                break
        return outcomes


def _with_sequence(table: object, cursor: Cursor) -> Cursor:
    """Fill in the sequence number of ``cursor``'s snapshot (needed if lineage is lost later)."""
    metadata = getattr(table, "metadata", None)
    snapshot = metadata.snapshot_by_id(cursor.snapshot_id) if metadata is not None else None
    if snapshot is None:
        return cursor
    return Cursor(snapshot.snapshot_id, snapshot.sequence_number or 0)
