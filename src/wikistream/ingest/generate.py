"""Realistic synthetic recentchange events, deterministic for a seed, with a ground-truth manifest.

``write_events(options, path)`` streams ``options.events`` JSON lines (plain or ``.gz``) in constant
memory and returns the manifest; ``EventGenerator(options).lines()`` yields the same lines for
callers that feed them elsewhere (a fake SSE server, an event log). Event *i* is stamped
``start + i / rate`` (plus jitter below one slot); Kafka offsets are consecutive; canaries come
about once per simulated hour; duplicates are byte-exact re-sends of one of the last 4 096 events;
late events carry a ``meta.dt`` up to 3 days before their arrival slot. The mix of wikis, types,
users and length deltas comes from ``wikistream.ingest.calibration``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from wikistream.clock import to_iso, utc_now
from wikistream.errors import ConfigError
from wikistream.ingest import calibration as cal
from wikistream.ingest.config import SEED_TARGET_DOMAINS
from wikistream.ingest.synth.events import EventFactory
from wikistream.ingest.synth.pages import PageBook
from wikistream.ingest.synth.planted import PlantSchedule, plan_users
from wikistream.ingest.synth.tally import DAY_MS, Tally, day_to_date, ms_to_iso
from wikistream.ingest.synth.users import DAILY_CAPS, UserPool
from wikistream.ingest.synth.wikis import build_wikis

MANIFEST_VERSION = 1
LATE_MIN_S = 60.0
LATE_MAX_S = 3 * 86_400.0
BURST_SECONDS = 6 * 3600
"""Planted users act within at most this much simulated time (less in short files)."""
CANARY_INTERVAL_S = 3600.0
DUPLICATE_RING = 4096
_JITTER = 0.9  # of one slot, so arrival order and dt order agree


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate. ``medium`` defaults to ``vandals``; ``start`` to now minus the span."""

    events: int
    seed: int = 0
    start: datetime | None = None
    rate: float = cal.DEFAULT_RATE
    vandals: int = 0
    medium: int | None = None
    late_fraction: float = 0.0
    duplicate_fraction: float = 0.0
    target_domains: tuple[str, ...] = field(default=SEED_TARGET_DOMAINS)

    def validated(self) -> GenerateOptions:
        """Return self after checking every value; raise ConfigError naming the bad option."""
        checks = (
            (self.events >= 1, "--events", self.events, "at least 1"),
            (self.rate > 0 and math.isfinite(self.rate), "--rate", self.rate, "> 0 events/s"),
            (self.vandals >= 0, "--vandals", self.vandals, ">= 0"),
            (self.medium is None or self.medium >= 0, "--medium", self.medium, ">= 0"),
            (0.0 <= self.late_fraction < 1.0, "--late-fraction", self.late_fraction, "in [0, 1)"),
            (
                0.0 <= self.duplicate_fraction < 1.0,
                "--duplicate-fraction",
                self.duplicate_fraction,
                "in [0, 1)",
            ),
        )
        for ok, option, value, rule in checks:
            if not ok:
                raise ConfigError(f"{option} must be {rule}, got {value!r}", key=option)
        if self.start is not None and self.start.tzinfo is None:
            raise ConfigError(
                f"--start {self.start.isoformat()} has no time zone; add Z or +00:00",
                key="--start",
            )
        return self

    @property
    def medium_users(self) -> int:
        """Planted MEDIUM users (defaults to the number of vandals)."""
        return self.vandals if self.medium is None else self.medium


class EventGenerator:
    """Yields the lines of one generated file; :meth:`manifest` is complete after iteration."""

    def __init__(self, options: GenerateOptions, *, now: datetime | None = None) -> None:
        self.options = options.validated()
        span_ms = int(options.events * 1000.0 / options.rate)
        start = options.start or (now or utc_now())
        start_ms = int(start.timestamp() * 1000)
        if options.start is None:
            start_ms -= span_ms
        self.start_ms = start_ms
        self._rng = random.Random(options.seed)
        self.wikis = build_wikis(options.target_domains)
        year = int(ms_to_iso(start_ms)[:4])
        self.tally = Tally(self.wikis)
        self.users = UserPool(options.seed, year)
        self.factory = EventFactory(
            self.wikis, PageBook(options.seed, self.wikis), self.users, self.tally
        )
        self.first_offset = cal.FIRST_OFFSET + random.Random(f"{options.seed}:offset").randrange(
            10**9
        )
        self.schedule = self._plan(span_ms)
        self._targets = frozenset(w.domain for w in self.wikis if w.is_target)
        self.last_offset = self.first_offset - 1
        self._done = False

    def _plan(self, span_ms: int) -> PlantSchedule:
        """Place the planted users' edits inside the longest same-UTC-day stretch of slots."""
        opts = self.options
        targets = tuple(w for w in self.wikis if w.is_target)
        if opts.vandals and len(targets) < 6:
            raise ConfigError(
                f"--vandals needs at least 6 target wikis to edit, but only {len(targets)} of "
                f"the target domains {list(opts.target_domains)} are generated; use the default "
                "target list",
                key="--vandals",
            )
        users = plan_users(random.Random(f"{opts.seed}:planted"), opts.vandals, opts.medium_users,
                           targets)  # fmt: skip
        needed = sum(u.edits for u in users)
        if not users:
            return PlantSchedule(users, 0, 0)
        step = 1000.0 / opts.rate
        best = (0, 0)
        first_day, last_day = self.start_ms // DAY_MS, (self.start_ms + span_ms) // DAY_MS
        for day in range(first_day, last_day + 1):
            lo = max(0, math.ceil((day * DAY_MS - self.start_ms) / step) + 1)
            hi = min(opts.events, math.floor(((day + 1) * DAY_MS - self.start_ms) / step) - 2)
            if hi - lo >= best[1] - best[0]:
                best = (lo, hi)
        length = min(best[1] - best[0], max(needed, int(opts.rate * BURST_SECONDS)))
        if length < needed:
            raise ConfigError(
                f"--vandals {opts.vandals} and --medium {opts.medium_users} need {needed} planted "
                f"edits inside one UTC day, but the longest same-day stretch of this file holds "
                f"{max(0, best[1] - best[0])} events; raise --events (or --rate), or move --start "
                "away from midnight",
                key="--events",
            )
        begin = best[0] + self._rng.randrange(best[1] - best[0] - length + 1)
        return PlantSchedule(users, begin, begin + length)

    def lines(self) -> Iterator[bytes]:
        """Yield each event as one line of compact JSON (no trailing newline)."""
        if self._done:
            raise RuntimeError("an EventGenerator can be iterated only once")
        self._done = True
        opts, rng, factory, tally, schedule = (
            self.options, self._rng, self.factory, self.tally, self.schedule,
        )  # fmt: skip
        encode = msgspec.json.Encoder().encode
        step = 1000.0 / opts.rate
        start_ms, offset = self.start_ms, self.first_offset
        span_s = opts.events / opts.rate
        next_canary = start_ms + int(rng.uniform(0.0, min(CANARY_INTERVAL_S, span_s)) * 1000)
        late, dup, targets = opts.late_fraction, opts.duplicate_fraction, self._targets
        late_lo, late_span = math.log(LATE_MIN_S * 1000), math.log(LATE_MAX_S / LATE_MIN_S)
        ring: list[tuple[bytes, bool]] = []
        window_start, window_end = schedule.start, schedule.end
        for slot in range(opts.events):
            ms = start_ms + int((slot + _JITTER * rng.random()) * step)
            planted = schedule.pick(rng, slot) if window_start <= slot < window_end else None
            if planted is not None:
                line = encode(factory.planted(rng, planted, ms, offset))
                is_target = True
            elif ms >= next_canary:
                yield encode(factory.canary(rng, ms, offset))
                offset += 1
                next_canary += int((CANARY_INTERVAL_S - rng.uniform(0.0, 120.0)) * 1000)
                continue
            elif dup and ring and rng.random() < dup:
                line, is_target = ring[rng.randrange(len(ring))]
                tally.duplicates += 1
                tally.target_duplicates += is_target
                yield line
                continue
            else:
                if late and rng.random() < late:
                    ms -= int(math.exp(late_lo + late_span * rng.random()))
                    tally.late += 1
                event = factory.organic(rng, ms, offset)
                line = encode(event)
                is_target = event["meta"]["domain"] in targets
            offset += 1
            if dup:
                if len(ring) < DUPLICATE_RING:
                    ring.append((line, is_target))
                else:
                    ring[slot % DUPLICATE_RING] = (line, is_target)
            yield line
        self.last_offset = offset - 1

    def manifest(self) -> dict[str, Any]:
        """Return the ground truth of the file; call after :meth:`lines` is exhausted."""
        if not self._done:
            raise RuntimeError("manifest() is complete only after lines() was consumed")
        opts = self.options
        options = asdict(opts)
        options["start"] = to_iso(opts.start) if opts.start else None
        options["target_domains"] = list(opts.target_domains)
        options["medium"] = opts.medium_users
        step = 1000.0 / opts.rate
        planted_date = (
            day_to_date(int(self.start_ms + self.schedule.start * step) // DAY_MS)
            if self.schedule.users
            else None
        )
        described = [self.schedule.describe(u, planted_date or "") for u in self.schedule.users]
        return {
            "manifest_version": MANIFEST_VERSION,
            "generator": "wikistream generate",
            "seed": opts.seed,
            "options": options,
            "lines": opts.events,
            **self.tally.summary(),
            "target_domains": sorted(opts.target_domains),
            "arrival_time_range": {
                "first": ms_to_iso(self.start_ms),
                "last": ms_to_iso(self.start_ms + int(opts.events * step)),
            },
            "topic": cal.TOPIC,
            "partition": 0,
            "offsets": {"first": self.first_offset, "last": self.last_offset},
            "planted_window": {
                "date": planted_date,
                "first_slot": self.schedule.start,
                "end_slot": self.schedule.end,
                "events": self.schedule.total,
            },
            "vandals": [u for u in described if u["role"] == "vandal"],
            "medium_users": [u for u in described if u["role"] == "medium"],
            "organic_daily_caps": dict(DAILY_CAPS),
        }


def manifest_path(out: Path) -> Path:
    """Return where the manifest of ``out`` goes: ``FILE.manifest.json`` beside it."""
    name = out.name
    for suffix in (".jsonl.gz", ".json.gz", ".gz", ".jsonl", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return out.with_name(f"{name}.manifest.json")


@contextmanager
def _open_out(path: Path, *, compress: bool) -> Iterator[IO[bytes]]:
    with path.open("wb") as raw:
        if not compress:
            yield raw
            return
        # Level 1: ~4× faster than level 6 and ~20 % larger, so generating stays the bottleneck;
        # mtime 0 and no name keep the bytes identical for identical options.
        with gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0) as gz:
            yield cast(IO[bytes], gz)


def write_events(
    options: GenerateOptions, out: Path, *, manifest: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """Write the generated events to ``out`` (gzip if it ends in .gz); return the manifest.

    The file appears atomically (written beside it, then renamed), so a crash never leaves a
    half-written file under the requested name. With ``manifest=True`` the manifest is written to
    :func:`manifest_path` as well.
    """
    generator = EventGenerator(options, now=now)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with _open_out(tmp, compress=out.suffix == ".gz") as handle:
            chunk: list[bytes] = []
            for line in generator.lines():
                chunk.append(line)
                if len(chunk) >= 2048:
                    chunk.append(b"")
                    handle.write(b"\n".join(chunk))
                    chunk.clear()
            if chunk:
                chunk.append(b"")
                handle.write(b"\n".join(chunk))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    result = generator.manifest()
    result["file"] = out.name
    if manifest:
        manifest_path(out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def read_manifest(out: Path) -> dict[str, Any]:
    """Load the manifest written beside ``out`` (or ``out`` itself if it is the manifest)."""
    path = out if out.name.endswith(".manifest.json") else manifest_path(out)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no manifest at {path}; run `wikistream generate ... --manifest`", key="manifest"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a generator manifest", key="manifest")
    return data
