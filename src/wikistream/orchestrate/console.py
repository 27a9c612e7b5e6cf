"""The terminal status: one table of stages (state, rates, lag, last commit, DLQ) plus alarms."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from wikistream.clock import utc_now
from wikistream.observe.alerts import Alert
from wikistream.orchestrate.status import StageStatus

_STYLE = {
    "running": "green",
    "idle": "cyan",
    "done": "cyan",
    "scheduled": "cyan",
    "blocked": "yellow",
    "starting": "yellow",
    "failed": "red",
    "stalled": "red",
    "stopped": "dim",
}

_rates: dict[str, tuple[float, float]] = {}


def _rate(key: str, total: float) -> float | None:
    """Per-second rate of a cumulative total since the previous call with the same key."""
    now = time.monotonic()
    previous = _rates.get(key)
    _rates[key] = (now, total)
    if previous is None or now <= previous[0] or total < previous[1]:
        return None
    return (total - previous[1]) / (now - previous[0])


def _age(status: StageStatus | None) -> str:
    if status is None or status.progress_at is None:
        return "-"
    seconds = (utc_now() - status.progress_at).total_seconds()
    return f"{seconds:,.0f}s ago"


def stage_rows(
    statuses: Mapping[str, StageStatus | None], restarts: Mapping[str, int]
) -> list[dict[str, Any]]:
    """One row per stage with what an operator checks first."""
    rows = []
    for stage, status in statuses.items():
        c = status.counters if status else {}
        row: dict[str, Any] = {
            "stage": stage,
            "state": status.state if status else "starting",
            "pid": status.pid if status else None,
            "restarts": restarts.get(stage, 0),
            "last progress": _age(status),
            "error": (status.last_error or "") if status else "",
        }
        if stage == "ingest":
            rate = _rate("ingest", float(c.get("received", 0)))
            row["detail"] = (
                f"{rate or 0:,.0f} ev/s · appended {int(c.get('appended', 0)):,} · "
                f"DLQ {int(c.get('dead_lettered', 0)):,} · filtered {int(c.get('filtered', 0)):,}"
            )
            source = (status.details.get("source") or {}) if status else {}
            if source.get("last_error") and not source.get("connected") and not row["error"]:
                # The stage itself is healthy (it keeps retrying); say why no events arrive.
                row["error"] = (
                    f"stream unreachable: {source['last_error']} "
                    f"(retrying, {int(source.get('reconnects') or 0)} attempts)"
                )
        elif stage == "bronze":
            rate = _rate("bronze", float(c.get("rows", 0)))
            row["detail"] = (
                f"{rate or 0:,.0f} rows/s · rows {int(c.get('rows', 0)):,} · "
                f"lag {int(c.get('lag', 0)):,} · commits {int(c.get('batches', 0)):,} · "
                f"DLQ {int(c.get('dlq', 0)):,}"
            )
        elif stage == "refine" and status is not None:
            gates = status.details.get("gates") or {}
            verdicts = " ".join(
                f"{layer}:{'ok' if g.get('passed') else 'FAIL'}" for layer, g in gates.items()
            )
            blocked = status.details.get("blocked") or {}
            row["detail"] = (
                f"silver rows {int(c.get('silver_rows', 0)):,} · gates {verdicts or '-'}"
                + (f" · BLOCKED {', '.join(blocked)}" if blocked else "")
            )
        else:
            row["detail"] = " · ".join(f"{k} {v:,.0f}" for k, v in c.items())
        rows.append(row)
    return rows


def render_status(
    data_dir: Path,
    workers: Mapping[str, Any],
    alerts: Sequence[Alert],
    *,
    metrics_url: str | None = None,
    dashboard_url: str | None = None,
) -> Group:
    """The live status view of `wikistream run`."""
    statuses = {name: worker.status for name, worker in workers.items()}
    restarts = {name: worker.restarts for name, worker in workers.items()}
    table = Table(title=f"WikiStream · {data_dir}", expand=False)
    for column in ("stage", "state", "detail", "last progress", "restarts", "error"):
        table.add_column(column, overflow="fold")
    for row in stage_rows(statuses, restarts):
        style = _STYLE.get(str(row["state"]), "")
        table.add_row(
            row["stage"],
            Text(str(row["state"]), style=style),
            row["detail"],
            row["last progress"],
            str(row["restarts"]),
            Text(str(row["error"])[:80], style="red"),
        )
    lines: list[Any] = [table]
    links = []
    if metrics_url:
        links.append(f"metrics {metrics_url}")
    if dashboard_url:
        links.append(f"dashboard {dashboard_url}")
    if links:
        lines.append(Text(" · ".join(links), style="dim"))
    for alert in alerts:
        lines.append(Text(f"ALARM {alert.severity.value}: {alert.title}", style="bold red"))
    lines.append(Text("Ctrl-C stops cleanly (each stage flushes what it read).", style="dim"))
    return Group(*lines)
