"""Organic editors: bots, registered, temporary and IP users with Zipf-like activity.

A few users make most edits (Zipf ranks), but a non-bot user never exceeds a daily cap. The caps
sit below the seed's velocity tiers (600 and 1 200 events per UTC day, SEED-FACTS §4.3) and organic
humans make at most one large deletion per day, so under the seed's rules — and under the stricter
"temporary and IPv6 users are anonymous" variant — no organic user can score MEDIUM or HIGH. The
only such users in a generated file are the planted ones listed in its manifest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from wikistream.ingest import calibration as cal
from wikistream.ingest.synth import names
from wikistream.ingest.synth.draws import Weighted, zipf_index

KINDS = ("bot", "registered", "temporary", "ipv4", "ipv6")
HUMAN_KINDS = ("registered", "temporary", "ipv4", "ipv6")
POOL_SIZES: dict[str, int] = {
    "bot": 400,
    "registered": 60_000,
    "temporary": 15_000,
    "ipv4": 15_000,
    "ipv6": 8_000,
}
ZIPF_EXPONENTS: dict[str, float] = {
    "bot": 1.1,
    "registered": 0.7,
    "temporary": 0.6,
    "ipv4": 0.6,
    "ipv6": 0.6,
}
"""Calibrated on wikiticker 2015: 23 824 human edits by 10 367 users, the busiest with 0.9 % of
them (exponent 0.7 over 60 000 gives 0.9 %); 3 799 IP edits by 2 904 IPs, busiest 0.5 % (0.6 over
15 000). One bot made 22 % of the 15 420 bot edits (1.1 over 400)."""
DAILY_CAPS: dict[str, int] = {"registered": 1000, "temporary": 400, "ipv4": 400, "ipv6": 400}
"""Most events a non-bot organic user makes in one UTC day (seed MEDIUM starts above 600)."""

_REDRAWS = 8
_KEEP_DAYS = 5  # late events reach 3 days back; older day tallies can be dropped
_BOT_SHARE = cal.BOT_SHARE


@dataclass(slots=True)
class User:
    """One editor; ``key`` is unique across kinds; ``is_bot`` sets the events' ``bot`` flag."""

    name: str
    kind: str
    key: int
    is_bot: bool = False


@dataclass(slots=True)
class _Kind:
    """Per-kind draw parameters and the users made so far (hot path: one lookup per draw)."""

    name: str
    size: int
    exponent: float
    cap: int
    key_base: int
    cache: dict[int, User]


class UserPool:
    """Draws organic editors for events and enforces the daily caps."""

    def __init__(self, seed: int, year: int) -> None:
        self._names = random.Random(f"{seed}:users")
        self._year = year
        self._kinds = {
            kind: _Kind(kind, POOL_SIZES[kind], ZIPF_EXPONENTS[kind], DAILY_CAPS.get(kind, 0),
                        i * 10_000_000, {})
            for i, kind in enumerate(KINDS)
        }  # fmt: skip
        self._bot = self._kinds["bot"]
        self._taken: set[str] = set()
        self._human_kinds = Weighted(
            [self._kinds[k] for k in HUMAN_KINDS], [cal.HUMAN_KIND_MIX[k] for k in HUMAN_KINDS]
        )
        self._day_counts: dict[int, dict[int, int]] = {}
        self._large_deletions: dict[int, set[int]] = {}

    def draw(self, rng: random.Random, day: int) -> User:
        """Return the editor of the next organic event on UTC day number ``day``."""
        if rng.random() < _BOT_SHARE:
            bot = self._bot
            idx = zipf_index(rng.random(), bot.size, bot.exponent)
            return bot.cache.get(idx) or self._make_user(bot, idx)
        kind = self._human_kinds.pick(rng.random())
        counts = self._day_counts.get(day)
        if counts is None:
            counts = self._new_day(day)
        size, cache = kind.size, kind.cache
        for attempt in range(_REDRAWS + 1):
            # After a few capped power users, fall back to a uniform draw over the pool.
            u = rng.random()
            idx = zipf_index(u, size, kind.exponent) if attempt < _REDRAWS else int(u * size)
            user = cache.get(idx) or self._make_user(kind, idx)
            count = counts.get(user.key, 0)
            if count < kind.cap:
                counts[user.key] = count + 1
                return user
        return user  # pragma: no cover - a 15 000-user pool cannot be full at 400/day

    def allow_large_deletion(self, user: User, day: int) -> bool:
        """Record a large deletion by ``user`` on ``day``; False if a human already made one."""
        if user.is_bot:
            return True
        done = self._large_deletions.setdefault(day, set())
        if user.key in done:
            return False
        done.add(user.key)
        return True

    def sample(self, kind: str, idx: int) -> User:
        """Return the user of ``kind`` at rank ``idx`` (for comments that mention users)."""
        spec = self._kinds[kind]
        idx %= spec.size
        return spec.cache.get(idx) or self._make_user(spec, idx)

    def _new_day(self, day: int) -> dict[int, int]:
        for old in [d for d in self._day_counts if d < day - _KEEP_DAYS]:
            del self._day_counts[old]
            self._large_deletions.pop(old, None)
        counts: dict[int, int] = {}
        self._day_counts[day] = counts
        return counts

    def _make_user(self, kind: _Kind, idx: int) -> User:
        name = self._make_name(self._names, kind.name)
        while name in self._taken:
            name = self._make_name(self._names, kind.name)
        self._taken.add(name)
        user = User(name=name, kind=kind.name, key=kind.key_base + idx, is_bot=kind.name == "bot")
        kind.cache[idx] = user
        return user

    def _make_name(self, rng: random.Random, kind: str) -> str:
        if kind == "bot":
            return names.make_bot_name(rng)
        if kind == "registered":
            return names.make_registered_name(rng)
        if kind == "temporary":
            return names.make_temporary_name(rng, self._year)
        if kind == "ipv4":
            return names.make_ipv4(rng)
        return names.make_ipv6(rng)
