"""Continuous mode: every stage in its own worker process, watched, with metrics, alerts and UI.

The main process is the supervisor. It also serves ``/metrics`` (Prometheus), evaluates the alert
rules, serves the dashboard, and draws a live status table on the terminal. SIGINT/SIGTERM stop
the workers (each flushes what it read) and then the supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from wikistream.observe.alerts import AlertEvaluator
from wikistream.observe.metrics import PipelineMetrics
from wikistream.observe.rules import build_rules
from wikistream.observe.server import serve_metrics
from wikistream.observe.sinks import build_sinks
from wikistream.orchestrate.console import render_status
from wikistream.orchestrate.feed import StatusFeed, write_alerts
from wikistream.orchestrate.pipeline import RunOptions
from wikistream.orchestrate.supervisor import (
    StageView,
    Supervisor,
    SupervisorEvent,
    WorkerSpec,
)
from wikistream.settings import Settings

log = logging.getLogger(__name__)

TICK_S = 0.5


def worker_specs(options: RunOptions, settings: Settings) -> list[WorkerSpec]:
    """The worker processes for the selected stages.

    With ``orchestrate.workers = "shared"`` (default) every stage, the dashboard included, is a
    thread of one worker process: Python, pydantic and pyarrow/DuckDB/pyiceberg are loaded once.
    With ``"per_stage"`` each stage has its own process (maintenance: one process per run) and
    the supervisor serves the dashboard.
    """
    body = options.to_dict()
    stages: list[str] = [name for name in ("ingest", "bronze") if name in options.stages]
    if options.refine_layers:
        stages.append("refine")
    if settings.orchestrate.workers == "per_stage":
        specs = [WorkerSpec(name, body) for name in stages]
        if "maintain" in options.stages:
            every_s = settings.lake.maintenance_interval_s
            specs.append(WorkerSpec("maintain", {**body, "periodic": True}, every_s=every_s))
        return specs
    if "maintain" in options.stages:
        stages.append("maintain")
    if settings.serve.enabled:
        stages.append("serve")
    return [WorkerSpec("+".join(stages), body)] if stages else []


class ContinuousRun:
    """The supervisor process of `wikistream run` (continuous mode)."""

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        *,
        config_file: Path | None = None,
        specs: list[WorkerSpec] | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.metrics = PipelineMetrics()
        self.evaluator = AlertEvaluator(
            build_rules(settings),
            build_sinks(settings.observe),
            settings.observe.alert_cooldown_s,
            metrics=self.metrics,
        )
        self.feed = StatusFeed(self.metrics)
        self.supervisor = Supervisor(
            settings,
            specs if specs is not None else worker_specs(options, settings),
            config_file=config_file,
            on_event=self._on_event,
        )
        self.stop = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self.metrics_url: str | None = None
        self.dashboard_url: str | None = None

    def _on_event(self, event: SupervisorEvent) -> None:
        if event.kind in ("exited", "stalled"):
            self.metrics.record_restart(event.stage, reason=f"{event.kind}: {event.reason}")

    def _start_services(self) -> None:
        cfg = self.settings
        if cfg.observe.metrics_enabled:
            server = serve_metrics(self.metrics, cfg.observe.metrics_host, cfg.observe.metrics_port)
            self.metrics_url = server.url
            self._closers.append(server.close)
        if cfg.serve.enabled and cfg.orchestrate.workers == "per_stage":
            from wikistream.serve.server import start_server

            dashboard = start_server(cfg)
            self.dashboard_url = dashboard.url
            self._closers.append(dashboard.close)

    def tick(self) -> None:
        """One supervisor round: watchdog, metrics feed, alert rules."""
        self.supervisor.tick()
        views = self.supervisor.stage_views()
        self._find_dashboard(views)
        self.feed.update({name: view.status for name, view in views.items()})
        self.evaluator.evaluate(self.metrics.snapshot())
        write_alerts(self.settings.data_dir, self.evaluator.active())

    def run(self, *, live: bool | None = None, until_done: bool = False) -> int:
        """Run until SIGINT/SIGTERM (or, with ``until_done``, until every worker finished)."""
        self._start_services()
        self.supervisor.start()
        console = Console(stderr=True)
        live = console.is_terminal if live is None else live
        try:
            with contextlib.ExitStack() as stack:
                display: Live | None = None
                if live:
                    display = stack.enter_context(Live(console=console, refresh_per_second=2))
                else:
                    self._print_banner()
                next_line = 0.0
                while not self.stop.is_set():
                    self.tick()
                    view = render_status(
                        self.settings.data_dir,
                        self.supervisor.stage_views(),
                        self.evaluator.active(),
                        metrics_url=self.metrics_url,
                        dashboard_url=self.dashboard_url,
                    )
                    if display is not None:
                        display.update(view)
                    elif time.monotonic() >= next_line:
                        next_line = time.monotonic() + 30
                        console.print(view)
                    if until_done and self.supervisor.all_done():
                        break
                    self.stop.wait(TICK_S)
        finally:
            self.supervisor.stop()
            self.tick_final()
            for close in reversed(self._closers):
                with contextlib.suppress(Exception):
                    close()
        return 0

    def _find_dashboard(self, views: Mapping[str, StageView]) -> None:
        """The dashboard's address, as the shared worker's ``serve`` stage last reported it."""
        view = views.get("serve")
        status = view.current if view is not None else None
        url = status.details.get("url") if status is not None else None
        if isinstance(url, str) and url != self.dashboard_url:
            self.dashboard_url = url
            self._print_banner()

    def tick_final(self) -> None:
        """Last metrics/alerts update after the workers stopped (best effort)."""
        with contextlib.suppress(Exception):
            self.feed.update({n: v.status for n, v in self.supervisor.stage_views().items()})
            write_alerts(self.settings.data_dir, [])

    def _print_banner(self) -> None:
        parts: list[str] = []
        if self.metrics_url:
            parts.append(f"metrics {self.metrics_url}")
        if self.dashboard_url:
            parts.append(f"dashboard {self.dashboard_url}")
        log.info("wikistream run: %s", ", ".join(parts) or "running")

    def install_signals(self) -> None:
        """SIGINT/SIGTERM stop the run cleanly."""

        def handler(signum: int, _frame: Any) -> None:
            if self.stop.is_set():
                sys.exit(128 + signum)
            self.stop.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
