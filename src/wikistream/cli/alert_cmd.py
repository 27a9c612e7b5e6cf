"""`wikistream alert sinks|test|rules`: see where alerts go and prove a message gets there."""

from __future__ import annotations

from typing import Annotated

import typer

from wikistream.cli.common import OUTPUT_OPTION, OutputFormat, render_rows, state
from wikistream.clock import utc_now
from wikistream.errors import AlertDeliveryError
from wikistream.observe.alerts import Alert, AlertEvaluator, AlertStatus, Severity

alert_app = typer.Typer(help="Alert sinks and rules.", no_args_is_help=True)


@alert_app.command("sinks")
def sinks(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """List the configured alert sinks (secrets redacted)."""
    from wikistream.observe.sinks import build_sinks  # httpx: only for alert commands

    configured = build_sinks(state(ctx).settings().observe)
    render_rows(
        [{"sink": s.name, "target": repr(s)} for s in configured], output, title="Alert sinks"
    )


@alert_app.command("rules")
def rules(ctx: typer.Context, output: OutputFormat = OUTPUT_OPTION) -> None:
    """List the alert rules the pipeline evaluates, with their thresholds."""
    from wikistream.observe.rules import build_rules

    rows = []
    for rule in build_rules(state(ctx).settings()):
        settings = {k: v for k, v in vars(rule).items() if not k.startswith("_")}
        summary = (type(rule).__doc__ or "").split("\n")[0].replace("``", "")
        rows.append({"rule": rule.name, "summary": summary})
        rows[-1]["settings"] = ", ".join(f"{k}={v:g}" for k, v in settings.items()) or "-"
    render_rows(rows, output, title="Alert rules")


@alert_app.command("test")
def send_test(
    ctx: typer.Context,
    severity: Annotated[
        Severity, typer.Option("--severity", case_sensitive=False, help="INFO, WARNING, CRITICAL.")
    ] = Severity.INFO,
    output: OutputFormat = OUTPUT_OPTION,
) -> None:
    """Send one test alert through every configured sink; exit code 1 if any sink failed."""
    from wikistream.observe.sinks import build_sinks

    configured = build_sinks(state(ctx).settings().observe)
    now = utc_now()
    alert = Alert(
        name="test",
        key="test",
        severity=severity,
        status=AlertStatus.FIRING,
        title="Test alert",
        summary="A test message sent by `wikistream alert test`; no action needed.",
        details={"alert_type": "TEST", "action_required": "None."},
        started_at=now,
        at=now,
    )
    outcome = AlertEvaluator([], configured, cooldown_s=0).dispatch(alert)
    render_rows(
        [
            {"sink": name, "result": "delivered" if error is None else "FAILED", "error": error}
            for name, error in outcome.items()
        ],
        output,
        title="Test alert",
    )
    failed = sorted(name for name, error in outcome.items() if error is not None)
    if failed:
        raise AlertDeliveryError(
            f"test alert not delivered by {', '.join(failed)} ({len(failed)} of {len(outcome)} "
            "sinks); see the error column and docs/runbook (observe: troubleshooting)"
        )


def register(app: typer.Typer) -> None:
    """Add the `alert` command group."""
    app.add_typer(alert_app, name="alert")
