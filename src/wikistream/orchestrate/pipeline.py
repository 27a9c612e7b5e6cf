"""What `wikistream run` runs: options, event sources, and the whole pipeline once (``--once``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikistream.errors import ConfigError
from wikistream.settings import Settings

if TYPE_CHECKING:  # kept out of CLI start-up: every command imports this module
    from wikistream.ingest.source import EventSource
    from wikistream.quality.gate import GateResult

log = logging.getLogger(__name__)

STAGES = ("ingest", "bronze", "silver", "gold", "dq", "maintain")
DEFAULT_STAGES = STAGES


@dataclass(frozen=True)
class RunOptions:
    """Flags of `wikistream run` that shape what the stages do."""

    replay: Path | None = None
    speed: str = "1"
    since: str | None = None
    once: bool = False
    stages: tuple[str, ...] = DEFAULT_STAGES

    def __post_init__(self) -> None:
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown:
            raise ConfigError(
                f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}",
                key="stages",
            )
        if self.replay is not None and self.since is not None:
            raise ConfigError("--since applies to the live stream, not to --replay", key="since")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (passed to worker processes)."""
        body = asdict(self)
        body["replay"] = str(self.replay) if self.replay else None
        body["stages"] = list(self.stages)
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RunOptions:
        """Inverse of :meth:`to_dict`."""
        return cls(
            replay=Path(body["replay"]) if body.get("replay") else None,
            speed=str(body.get("speed", "1")),
            since=body.get("since"),
            once=bool(body.get("once", False)),
            stages=tuple(body.get("stages") or DEFAULT_STAGES),
        )

    @property
    def refine_layers(self) -> tuple[str, ...]:
        """Which of silver/gold this run computes."""
        return tuple(layer for layer in ("silver", "gold") if layer in self.stages)


def open_source(
    settings: Settings, options: RunOptions, *, follow: bool
) -> tuple[EventSource, str]:
    """The event source for ``options`` (a replay file or the live stream) and its resume key."""
    from wikistream.ingest.ingestor import LIVE_RESUME_KEY

    if options.replay is not None:
        from wikistream.ingest.replay import ReplaySource, parse_speed

        replay = ReplaySource(
            options.replay,
            parse_speed(options.speed),
            follow=follow,
            max_gap_s=settings.ingest.replay_max_gap_s,
        )
        return replay, replay.resume_key
    from wikistream.ingest.since import parse_since
    from wikistream.ingest.sse_source import SseSource

    start = parse_since(options.since, settings.ingest.retention_days) if options.since else None
    return SseSource(settings.ingest, since=start), LIVE_RESUME_KEY


@dataclass
class OnceSummary:
    """What `wikistream run --once` did, stage by stage."""

    ingest: dict[str, Any] = field(default_factory=dict)
    bronze: dict[str, Any] = field(default_factory=dict)
    silver: list[dict[str, Any]] = field(default_factory=list)
    gold: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def run_once(
    settings: Settings,
    options: RunOptions,
    *,
    stop: threading.Event | None = None,
    on_gate: Callable[[GateResult], None] | None = None,
) -> OnceSummary:
    """Process all available input through every selected stage in this process, then return.

    With ``--replay`` the file is ingested to its end first; without it nothing is ingested
    (a live stream never ends) and the stages process what the event log already holds.
    """
    from wikistream.eventlog.registry import open_event_log
    from wikistream.ingest.ingestor import Ingestor
    from wikistream.ingest.lock import hold_ingest_lock
    from wikistream.lake.bronze import BronzeWriter
    from wikistream.lake.catalog import open_lake
    from wikistream.orchestrate.refine import Refiner

    stop = stop or threading.Event()
    summary = OnceSummary()
    results: list[GateResult] = []

    def seen(result: GateResult) -> None:
        results.append(result)
        if on_gate is not None:
            on_gate(result)

    event_log = open_event_log(settings)
    try:
        if "ingest" in options.stages and options.replay is not None:
            source, resume_key = open_source(settings, options, follow=False)
            with hold_ingest_lock(settings.data_dir):
                ingestor = Ingestor(settings, event_log, resume_key=resume_key)
                summary.ingest = ingestor.run(source, stop).as_dict()
        catalog = open_lake(settings)
        if "bronze" in options.stages and not stop.is_set():
            writer = BronzeWriter(settings, event_log, catalog)
            try:
                summary.bronze = asdict(writer.drain())
            finally:
                writer.close()
        layers = options.refine_layers
        if layers and not stop.is_set():
            refiner = Refiner(
                settings,
                catalog,
                on_gate=seen,
                gates=settings.quality.enabled and "dq" in options.stages,
                layers=layers,
            )
            for outcome in refiner.run_until_idle():
                if outcome.silver is not None:
                    summary.silver.append(outcome.silver.as_dict())
                if outcome.gold is not None:
                    summary.gold.append(outcome.gold.as_dict())
                summary.gates.extend(
                    {"layer": g.layer, "run_id": g.run_id, "passed": g.passed, "summary": g.summary}
                    for g in outcome.gates
                )
                summary.blocked.update(outcome.blocked)
    finally:
        event_log.close()
    summary.alerts = send_gate_alerts(settings, results)
    return summary


def send_gate_alerts(settings: Settings, results: list[GateResult]) -> list[dict[str, Any]]:
    """Alert on the gates of a one-shot run, as continuous mode would (cron users expect it).

    One evaluation of the gate-failure rule over the latest run of each table: a failed gate sends
    the seed's DATA_QUALITY_GATE_FAILURE alert to every configured sink. There is no memory between
    runs, so a slice that stays blocked alerts again on each run (no cooldown, no "resolved").
    """
    if not results:
        return []
    from wikistream.observe.alerts import AlertEvaluator
    from wikistream.observe.metrics import PipelineMetrics
    from wikistream.observe.rules import GateFailureRule
    from wikistream.observe.sinks import build_sinks
    from wikistream.orchestrate.feed import gate_record, observe_gate_record

    metrics = PipelineMetrics(process_metrics=False, cpu_seconds=None)
    for result in results:  # later runs of a table replace earlier ones, as in continuous mode
        observe_gate_record(metrics, gate_record(result))
    findings = AlertEvaluator([GateFailureRule()], []).evaluate(metrics.snapshot())
    sender = AlertEvaluator([], build_sinks(settings.observe))
    sent = []
    for alert in findings:
        outcome = sender.dispatch(alert)
        sent.append(
            {
                "key": alert.key,
                "title": alert.title,
                "delivered": sorted(k for k, error in outcome.items() if error is None),
                "failed": {k: error for k, error in outcome.items() if error is not None},
            }
        )
    return sent
