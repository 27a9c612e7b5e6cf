"""Stage names → the functions that run them in a worker.

Built-in stages are imported only when used. A name of the form ``package.module:function`` runs
any function taking a :class:`~wikistream.orchestrate.worker.StageContext` (used by tests and for
extensions).
"""

from __future__ import annotations

import importlib

from wikistream.errors import ConfigError
from wikistream.orchestrate.worker import StageFunction

BUILTIN_STAGES: dict[str, str] = {
    "ingest": "wikistream.orchestrate.builtin:ingest_stage",
    "bronze": "wikistream.orchestrate.builtin:bronze_stage",
    "refine": "wikistream.orchestrate.builtin:refine_stage",
    "maintain": "wikistream.orchestrate.builtin:maintain_stage",
    "serve": "wikistream.orchestrate.builtin:serve_stage",
}


def resolve_stage(name: str) -> StageFunction:
    """Return the function of a built-in stage or of a ``module:function`` spec."""
    spec = BUILTIN_STAGES.get(name, name)
    if ":" not in spec:
        known = ", ".join(sorted(BUILTIN_STAGES)) or "none"
        raise ConfigError(f"unknown stage {name!r}; known stages: {known}", key="stages")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        function: StageFunction = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load stage {name!r} ({spec}): {exc}", key="stages") from exc
    return function


def stage_label(name: str) -> str:
    """Status/lock name of a stage (the function name for ``module:function`` specs)."""
    if name in BUILTIN_STAGES:
        return name
    return name.rpartition(":")[2] if ":" in name else name
