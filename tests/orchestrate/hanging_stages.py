"""Stage wrappers that hang on their first run, then run the real built-in stage.

Named like the built-in stages so their status files, locks and metrics are the real ones
(``tests.orchestrate.hanging_stages:bronze`` runs under the label ``bronze``).
"""

from __future__ import annotations

import os
import time

from wikistream.orchestrate import builtin
from wikistream.orchestrate.worker import StageContext


def _hang_first_time(ctx: StageContext, name: str) -> None:
    marker = ctx.settings.data_dir / f"{name}.hung"
    if marker.exists():
        return
    marker.write_text(f"{os.getpid()} {time.time()}")
    ctx.report(pending=True, force=True)
    while True:  # stuck: no heartbeat, and SIGTERM's stop flag is never looked at
        time.sleep(3600)


def bronze(ctx: StageContext) -> None:
    """Hang on the first run; afterwards the real bronze stage."""
    _hang_first_time(ctx, "bronze")
    builtin.bronze_stage(ctx)


def refine(ctx: StageContext) -> None:
    """Hang on the first run; afterwards the real refine stage."""
    _hang_first_time(ctx, "refine")
    builtin.refine_stage(ctx)
