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
_BOT_EXPONENT = ZIPF_EXPONENTS["bot"]


@dataclass(slots=True)
class User:
    """One editor; ``key`` is unique across kinds."""

    name: str
    kind: str
    key: int

    @property
    def is_bot(self) -> bool:
        """Whether events of this user carry ``bot: true``."""
        return self.kind == "bot"


class UserPool:
    """Draws organic editors for events and enforces the daily caps."""

    def __init__(self, seed: int, year: int) -> None:
        self._names = random.Random(f"{seed}:users")
        self._year = year
        self._cache: dict[str, dict[int, User]] = {kind: {} for kind in KINDS}
        self._taken: set[str] = set()
        self._human_kinds = Weighted(HUMAN_KINDS, [cal.HUMAN_KIND_MIX[k] for k in HUMAN_KINDS])
        self._day_counts: dict[int, dict[int, int]] = {}
        self._large_deletions: dict[int, set[int]] = {}
        self._key_base = {kind: i * 10_000_000 for i, kind in enumerate(KINDS)}

    def draw(self, rng: random.Random, day: int) -> User:
        """Return the editor of the next organic event on UTC day number ``day``."""
        if rng.random() < cal.BOT_SHARE:
            return self._user("bot", zipf_index(rng.random(), POOL_SIZES["bot"], _BOT_EXPONENT))
        kind = HUMAN_KINDS[self._human_kinds.index(rng.random())]
        size, exponent, cap = POOL_SIZES[kind], ZIPF_EXPONENTS[kind], DAILY_CAPS[kind]
        counts = self._day_counts.get(day)
        if counts is None:
            counts = self._new_day(day)
        for attempt in range(_REDRAWS + 1):
            # After a few capped power users, fall back to a uniform draw over the pool.
            u = rng.random()
            idx = zipf_index(u, size, exponent) if attempt < _REDRAWS else int(u * size)
            user = self._user(kind, idx)
            count = counts.get(user.key, 0)
            if count < cap:
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
        return self._user(kind, idx % POOL_SIZES[kind])

    def _new_day(self, day: int) -> dict[int, int]:
        for old in [d for d in self._day_counts if d < day - _KEEP_DAYS]:
            del self._day_counts[old]
            self._large_deletions.pop(old, None)
        counts: dict[int, int] = {}
        self._day_counts[day] = counts
        return counts

    def _user(self, kind: str, idx: int) -> User:
        cached = self._cache[kind].get(idx)
        if cached is not None:
            return cached
        name = self._make_name(self._names, kind)
        while name in self._taken:
            name = self._make_name(self._names, kind)
        self._taken.add(name)
        user = User(name=name, kind=kind, key=self._key_base[kind] + idx)
        self._cache[kind][idx] = user
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
