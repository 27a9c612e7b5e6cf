"""A stage that writes down the settings and log level its worker process got."""

from __future__ import annotations

import json
import logging

from wikistream.orchestrate.worker import StageContext


def record_settings(ctx: StageContext) -> None:
    """Write log backend, config-derived values and the root log level to probe.json, finish."""
    body = {
        "log_backend": ctx.settings.log.backend,
        "bootstrap": ctx.settings.log.kafka.bootstrap_servers,
        "debug": logging.getLogger().isEnabledFor(logging.DEBUG),
    }
    (ctx.settings.data_dir / "probe.json").write_text(json.dumps(body))
    ctx.report(progressed=True, pending=False, force=True)
