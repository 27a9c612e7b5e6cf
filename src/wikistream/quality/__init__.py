"""Data-quality checks, gates and audit tables.

Entry points for the orchestrator: :func:`~wikistream.quality.gate.run_gate` (check a layer's
slice, record it, get a :class:`~wikistream.quality.gate.GateResult`),
:class:`~wikistream.quality.slices.SliceSpec` (dates + batch id),
:func:`~wikistream.quality.upstream.upstream_results` (which gate runs covered which dates) and
:mod:`wikistream.quality.audit` (latest run, overrides). Checks are declared in
:mod:`wikistream.quality.catalogue` and run by :mod:`wikistream.quality.engine`.
"""
